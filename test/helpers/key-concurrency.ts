/**
 * A provider key that allows `allowed` requests in flight: a loopback proxy in front of the fake provider that
 * counts the requests it holds open and forwards each one with the mode the real API would answer it with (a
 * slow answer, or the provider's own concurrency 429 once `allowed` are already in flight). Used by the
 * gateway tests and by the end-to-end tests through the MCP client.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface KeyLimit {
  /** http://127.0.0.1:PORT; append the provider's base path (`/api/paas/v4`, `/v1`). */
  readonly url: string;
  /** Requests answered with the concurrency 429. */
  readonly refusals: number;
  /** Most requests in flight at once among those that were answered normally. */
  readonly peak: number;
  /** Requests forwarded in all. */
  readonly requests: number;
  /** The key's plan changes: from now on `n` requests may be in flight. */
  setAllowed(n: number): void;
  resetCounters(): void;
  close(): Promise<void>;
}

/**
 * `upstream` is the fake provider's base URL; `refusalMode` the fake mode of the refusal (e.g.
 * `glmerror,code=1302`, `kimierror,kind=concurrency`); `answerMs` how long an accepted request takes.
 */
export async function keyWithConcurrency(
  upstream: string,
  allowed: number,
  refusalMode: string,
  answerMs: number,
): Promise<KeyLimit> {
  let inFlight = 0;
  const state = { refusals: 0, peak: 0, requests: 0, allowed };
  const target = new URL(upstream);
  const agent = new http.Agent({ keepAlive: true });
  const server = http.createServer((req, res) => {
    inFlight++;
    state.requests++;
    res.once('close', () => inFlight--);
    const refused = inFlight > state.allowed;
    if (refused) state.refusals++;
    else state.peak = Math.max(state.peak, inFlight);
    const headers = { ...req.headers, 'x-fake-mode': refused ? refusalMode : `delay,ms=${answerMs}` };
    delete headers.host;
    const forward = http.request(
      { host: target.hostname, port: target.port, path: req.url, method: req.method, headers, agent },
      answer => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    forward.once('error', () => res.destroy());
    res.once('close', () => forward.destroy());
    req.pipe(forward);
  });
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    get refusals() {
      return state.refusals;
    },
    get peak() {
      return state.peak;
    },
    get requests() {
      return state.requests;
    },
    setAllowed(n) {
      state.allowed = n;
    },
    resetCounters() {
      state.refusals = 0;
      state.peak = 0;
      state.requests = 0;
    },
    close: () =>
      new Promise<void>(resolve => {
        agent.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
