/**
 * One POST over the pool, abortable at every stage: connecting, sending, waiting for headers and reading
 * the body. Aborting destroys the socket, so the upstream server sees the connection close at once and
 * stops generating (and billing) tokens.
 */

import type { ClientRequest, IncomingHttpHeaders, IncomingMessage } from 'node:http';
import * as http from 'node:http';
import * as https from 'node:https';
import { ExaiError } from '../errors.js';
import type { HttpPool } from './pool.js';

export interface PostOptions {
  pool: HttpPool;
  headers: Record<string, string>;
  signal: AbortSignal;
  connectTimeoutMs: number;
  /** Largest body to send; a larger one is a `local` error and never leaves this process. */
  maxBodyBytes?: number;
  /**
   * Receives the request once it exists, so its owner can end it for a reason of its own (a stall) by
   * destroying it with that reason, the way the signal does for the caller's.
   */
  onRequest?: (request: ClientRequest) => void;
}

export interface HttpResponse {
  status: number;
  headers: IncomingHttpHeaders;
  /** The body stream; destroy it (or abort the signal) to release the socket early. */
  body: IncomingMessage;
}

export function postJson(url: URL, payload: unknown, options: PostOptions): Promise<HttpResponse> {
  const { signal } = options;
  if (signal.aborted) return Promise.reject(signal.reason);
  let data: string;
  try {
    // A string body, not a Buffer: node:http then sends headers and body in one write instead of a writev.
    data = JSON.stringify(payload);
  } catch (error) {
    // V8 throws RangeError "Invalid string length" past ~512 MB of JSON; cycles and BigInts throw TypeError.
    // Our failure, not the provider's: as a `network` error it was retried and opened the breaker.
    const why = error instanceof Error ? error.message : String(error);
    return Promise.reject(
      new ExaiError(
        'local',
        `request not sent: its body could not be serialised (${why}); send fewer or smaller files or less history`,
        { cause: error },
      ),
    );
  }
  const bytes = Buffer.byteLength(data);
  if (options.maxBodyBytes !== undefined && bytes > options.maxBodyBytes) {
    return Promise.reject(
      new ExaiError(
        'local',
        `request not sent: its body is ${formatBytes(bytes)}, over the ${formatBytes(options.maxBodyBytes)} limit (PROVIDER_MAX_REQUEST_BYTES); send fewer or smaller files or less history`,
      ),
    );
  }
  const send = url.protocol === 'https:' ? https.request : http.request;

  return new Promise<HttpResponse>((resolve, reject) => {
    let connectTimer: NodeJS.Timeout | undefined;
    const req = send(url, {
      method: 'POST',
      agent: options.pool.agentFor(url),
      headers: {
        ...options.headers,
        'content-type': 'application/json',
        'content-length': String(bytes),
      },
    });

    options.onRequest?.(req);
    const onAbort = () =>
      req.destroy(signal.reason instanceof Error ? signal.reason : new Error(String(signal.reason)));
    signal.addEventListener('abort', onAbort, { once: true });
    const cleanup = () => {
      clearTimeout(connectTimer);
      signal.removeEventListener('abort', onAbort);
    };

    req.once('socket', socket => {
      if (!socket.connecting) return;
      connectTimer = setTimeout(() => {
        req.destroy(
          new ExaiError(
            'network',
            `could not connect to ${url.host} within ${options.connectTimeoutMs / 1000} s`,
          ),
        );
      }, options.connectTimeoutMs);
      socket.once('connect', () => clearTimeout(connectTimer));
    });

    req.once('response', res => {
      clearTimeout(connectTimer);
      // From here on the caller owns the body; keep the abort wired to it until the body ends or closes.
      res.once('close', cleanup);
      resolve({ status: res.statusCode ?? 0, headers: res.headers, body: res });
    });

    req.once('error', error => {
      cleanup();
      reject(signal.aborted ? signal.reason : toNetworkError(error, url));
    });
    req.end(data);
  }).catch(error => {
    throw signal.aborted ? signal.reason : error;
  });
}

/** Reads a whole body as text, at most maxBytes (the rest is dropped and the socket destroyed). */
export async function readText(body: IncomingMessage, maxBytes = 8 * 1024 * 1024): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) {
      body.destroy();
      throw new ExaiError('protocol', `response body larger than ${maxBytes} bytes`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function formatBytes(bytes: number): string {
  if (bytes < 1024 * 1024) return `${Math.ceil(bytes / 1024)} KiB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
}

function toNetworkError(error: Error & { code?: string }, url: URL): ExaiError {
  if (error instanceof ExaiError) return error;
  const code = error.code ? ` (${error.code})` : '';
  return new ExaiError('network', `request to ${url.host} failed: ${error.message}${code}`, { cause: error });
}
