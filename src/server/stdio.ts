/**
 * MCP over stdio: the default transport, one client per process. stdout carries JSON-RPC and nothing else
 * (logs go to stderr), and the server stops when the client closes stdin.
 */
import { serveStdio } from '@modelcontextprotocol/server/stdio';
import type { App } from './app.js';
import { createServer } from './create-server.js';

export interface StdioServer {
  /** Resolves once the connection is closed, by the client (stdin ended) or by close(). */
  readonly closed: Promise<void>;
  /** Closes the connection, aborting requests in flight. Idempotent. */
  close(): Promise<void>;
}

export function serveOverStdio(app: App): StdioServer {
  const log = app.logger.child({ component: 'stdio' });
  // serveStdio may build a second instance for a server/discover probe; each is cheap (see create-server).
  const handle = serveStdio(() => createServer(app), {
    onerror: error => log.warn({ event: 'stdio_error', err: error }, 'stdio transport error'),
  });
  let markClosed: () => void = () => {};
  const closed = new Promise<void>(resolve => {
    markClosed = resolve;
  });
  let closing: Promise<void> | undefined;

  const close = (): Promise<void> => {
    closing ??= (async () => {
      process.stdin.off('end', onInputEnd);
      process.stdin.off('close', onInputEnd);
      try {
        await handle.close();
      } catch (error) {
        log.warn({ event: 'stdio_close_failed', err: error }, 'closing the stdio transport failed');
      }
      markClosed();
    })();
    return closing;
  };
  // The MCP stdio binding: a client ends the session by closing our stdin, and the server should then exit.
  const onInputEnd = () => {
    log.info({ event: 'stdin_closed' }, 'client closed stdin; stopping');
    void close();
  };
  process.stdin.once('end', onInputEnd);
  process.stdin.once('close', onInputEnd);
  log.info({ event: 'listening', transport: 'stdio', version: app.version }, 'exai-mcp serving on stdio');
  return { closed, close };
}
