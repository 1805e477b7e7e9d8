/**
 * A loopback upstream whose answers a test writes out chunk by chunk, for wire shapes the shared fake does not
 * produce (GLM's abnormal finish reasons, Kimi's top-level cached_tokens and msh-request-id header). Each
 * request gets the next script in the list (the last one repeats); every request body is kept.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

export interface Script {
  status?: number;
  headers?: Record<string, string>;
  /** Milliseconds before the headers are sent. */
  delayMs?: number;
  /** SSE events: objects are sent as `data: <json>`, strings as they are; `[DONE]` is appended. */
  events?: Array<Record<string, unknown> | string>;
  /** A plain JSON body instead of a stream. */
  json?: Record<string, unknown>;
}

export interface ScriptedUpstream {
  url: string;
  bodies: Array<Record<string, unknown>>;
  close(): Promise<void>;
}

export async function startScriptedUpstream(scripts: Script[]): Promise<ScriptedUpstream> {
  const bodies: Array<Record<string, unknown>> = [];
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      text += chunk;
    });
    req.on('end', () => {
      bodies.push(JSON.parse(text || '{}') as Record<string, unknown>);
      const script = scripts[Math.min(bodies.length - 1, scripts.length - 1)] as Script;
      const send = () => {
        if (script.json) {
          res.writeHead(script.status ?? 200, { 'content-type': 'application/json', ...script.headers });
          res.end(JSON.stringify(script.json));
          return;
        }
        res.writeHead(script.status ?? 200, { 'content-type': 'text/event-stream', ...script.headers });
        for (const event of script.events ?? [])
          res.write(`data: ${typeof event === 'string' ? event : JSON.stringify(event)}\n\n`);
        res.end('data: [DONE]\n\n');
      };
      if (!script.delayMs) return send();
      const timer = setTimeout(() => {
        timers.delete(timer);
        send();
      }, script.delayMs);
      timers.add(timer);
    });
  });
  server.on('connection', socket => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return {
    url: `http://127.0.0.1:${address.port}/v1`,
    bodies,
    close: () =>
      new Promise<void>(resolve => {
        for (const timer of timers) clearTimeout(timer);
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** One streamed chunk in the OpenAI shape. */
export function chunk(
  delta: Record<string, unknown>,
  extra: { finish?: string; usage?: Record<string, unknown>; id?: string; request_id?: string } = {},
): Record<string, unknown> {
  return {
    id: extra.id ?? 'chatcmpl-scripted',
    ...(extra.request_id !== undefined && { request_id: extra.request_id }),
    object: 'chat.completion.chunk',
    model: 'scripted',
    choices: [{ index: 0, delta, finish_reason: extra.finish ?? null }],
    ...(extra.usage !== undefined && { usage: extra.usage }),
  };
}
