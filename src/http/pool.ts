/**
 * The keep-alive connection pool for provider traffic, on Node's own http/https agents.
 *
 * Why node:http and not undici 7: undici's default headers/body timeouts end calls at 300 s whatever our
 * deadline says, and when its pool holds several connections to one origin, aborting requests still waiting
 * for headers leaves their sockets open (still generating billed tokens upstream). A node:http Agent
 * destroys the socket of every aborted request; our deadlines own the whole time budget.
 */
import * as http from 'node:http';
import * as https from 'node:https';

export interface PoolOptions {
  /** Most sockets per origin (host:port), in use or idle. */
  maxSocketsPerOrigin: number;
  /** TCP keep-alive probe delay for idle sockets. */
  keepAliveMsecs?: number;
}

export interface PoolStats {
  /** Sockets carrying a request now. */
  active: number;
  /** Idle keep-alive sockets ready for reuse. */
  idle: number;
  /** Requests waiting for a socket because the per-origin limit is reached. */
  pending: number;
}

export interface HttpPool {
  agentFor(url: URL): http.Agent;
  stats(): PoolStats;
  /** Destroys every socket, idle or busy. */
  destroy(): void;
}

export function createHttpPool(options: PoolOptions): HttpPool {
  const agentOptions = {
    keepAlive: true,
    keepAliveMsecs: options.keepAliveMsecs ?? 15_000,
    maxSockets: options.maxSocketsPerOrigin,
    maxFreeSockets: options.maxSocketsPerOrigin,
    // LIFO reuses the warmest socket and lets surplus idle ones age out on the server's keep-alive timer.
    scheduling: 'lifo' as const,
  };
  const httpAgent = new http.Agent(agentOptions);
  const httpsAgent = new https.Agent(agentOptions);
  const agents = [httpAgent, httpsAgent];

  const count = (table: NodeJS.ReadOnlyDict<unknown[]>): number =>
    Object.values(table).reduce((sum, list) => sum + (list?.length ?? 0), 0);

  return {
    agentFor: url => (url.protocol === 'https:' ? httpsAgent : httpAgent),
    stats: () => ({
      active: agents.reduce((n, a) => n + count(a.sockets), 0),
      idle: agents.reduce((n, a) => n + count(a.freeSockets), 0),
      pending: agents.reduce((n, a) => n + count(a.requests), 0),
    }),
    destroy: () => {
      for (const agent of agents) agent.destroy();
    },
  };
}
