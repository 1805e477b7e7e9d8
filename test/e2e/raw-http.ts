/**
 * Raw HTTP against the server, for what the MCP client never does on purpose: hold streams open, trickle
 * bytes, flood sessions, send a cancel notification by hand. node:http (fetch will not stream a request
 * body slowly or keep a Host header of our choosing) and plain sockets.
 */
import { type ClientRequest, request as httpRequest, type IncomingMessage } from 'node:http';
import { Socket } from 'node:net';

export const JSON_HEADERS = {
  'content-type': 'application/json',
  accept: 'application/json, text/event-stream',
};

export function initMessage(id: number | string = 1): Record<string, unknown> {
  return {
    jsonrpc: '2.0',
    id,
    method: 'initialize',
    params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '0' } },
  };
}

export interface Exchange {
  req: ClientRequest;
  res: IncomingMessage;
  /** Everything the response body carried so far. */
  text(): string;
  /** Resolves once the response body ended or the connection closed. */
  ended: Promise<void>;
}

/** Sends a request and resolves on its response headers; the body keeps streaming into text(). */
export function send(
  url: string,
  options: { method?: string; headers?: Record<string, string> | undefined; body?: unknown } = {},
): Promise<Exchange> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      url,
      { method: options.method ?? 'POST', headers: { ...JSON_HEADERS, ...options.headers } },
      res => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', chunk => {
          text += chunk;
        });
        const ended = new Promise<void>(done => {
          res.once('end', done);
          res.once('close', done);
          res.once('error', () => done());
        });
        resolve({ req, res, text: () => text, ended });
      },
    );
    req.on('error', reject);
    req.end(options.body === undefined ? undefined : JSON.stringify(options.body));
  });
}

/** A 2025-era session opened by hand: initialize, then notifications/initialized. */
export async function openSession(url: string): Promise<Record<string, string>> {
  const init = await send(url, { body: initMessage() });
  await init.ended;
  if (init.res.statusCode !== 200) {
    throw new Error(`initialize answered ${init.res.statusCode}: ${init.text()}`);
  }
  const headers = {
    'mcp-session-id': String(init.res.headers['mcp-session-id']),
    'mcp-protocol-version': '2025-06-18',
  };
  const ack = await send(url, { headers, body: { jsonrpc: '2.0', method: 'notifications/initialized' } });
  await ack.ended;
  return headers;
}

/** A plain TCP connection to the server's port, with a promise that resolves when the server closes it. */
export async function openSocket(origin: string): Promise<{ socket: Socket; closed: Promise<string> }> {
  const { hostname, port } = new URL(origin);
  const socket = new Socket();
  let received = '';
  socket.setEncoding('utf8');
  socket.on('data', chunk => {
    received += chunk;
  });
  const closed = new Promise<string>(resolve => {
    socket.once('close', () => resolve(received));
    socket.once('error', () => {});
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
    socket.connect(Number(port), hostname);
  });
  return { socket, closed };
}

/** Writes `text` one byte every `everyMs` until it is all sent or the socket closes. */
export async function trickle(socket: Socket, text: string, everyMs: number): Promise<void> {
  for (const char of text) {
    if (socket.destroyed || !socket.writable) return;
    socket.write(char);
    await new Promise(resolve => setTimeout(resolve, everyMs));
  }
}
