/**
 * MCP over stdio: the default transport, one client per process. stdout carries JSON-RPC and nothing else
 * (logs go to stderr), and the server stops when the client closes stdin.
 */
import { StdioServerTransport, serveStdio } from '@modelcontextprotocol/server/stdio';
import type { App } from './app.js';
import { createServer } from './create-server.js';
import { type EarlyStdio, sameAnswer, withoutReplayAnswer } from './stdio-early.js';
import { lineLimit } from './stdio-limit.js';

/** Largest stdio message (one line of JSON-RPC); larger ones are refused one by one. */
export const MAX_STDIO_MESSAGE_BYTES = 10 * 1024 * 1024;

export interface StdioServer {
  /** Resolves once the connection is closed, by the client (stdin ended) or by close(). */
  readonly closed: Promise<void>;
  /** Closes the connection, aborting requests in flight. Idempotent. */
  close(): Promise<void>;
}

/** `early`: what was read from stdin (and answered) while the server loaded (readStdioEarly's handOver). */
export function serveOverStdio(app: App, early?: EarlyStdio): StdioServer {
  const log = app.logger.child({ component: 'stdio' });
  // serveStdio may build a second instance for a server/discover probe; each is cheap (see create-server).
  const input = lineLimit(MAX_STDIO_MESSAGE_BYTES, ({ bytes, id }) => {
    const message = `Message of ${bytes} bytes is over the limit of ${MAX_STDIO_MESSAGE_BYTES} bytes (10 MiB) and was not read; send less (for files, their paths rather than their content).`;
    if (id === undefined) {
      log.warn({ event: 'stdio_message_too_large', bytes }, `${message} Its JSON-RPC id could not be found.`);
      return;
    }
    log.warn({ event: 'stdio_message_too_large', bytes, id }, message);
    // A JSON-RPC answer, one whole line: protocol output, as the transport itself writes it to stdout.
    process.stdout.write(`${JSON.stringify({ jsonrpc: '2.0', id, error: { code: -32600, message } })}\n`);
  });
  for (const chunk of early?.pending ?? []) input.write(chunk);
  if (early?.ended || process.stdin.readableEnded) input.end();
  else process.stdin.pipe(input);
  const answered = early?.answered;
  const output = answered
    ? withoutReplayAnswer(process.stdout, message => {
        if (sameAnswer(message, answered)) return;
        log.error(
          { event: 'early_initialize_mismatch', early: answered, server: message },
          'the early answer to initialize differs from what the server answers',
        );
      })
    : process.stdout;
  // Room for one whole message: the filter above passes at most one line per write.
  const transport = new StdioServerTransport(input, output, {
    maxBufferSize: MAX_STDIO_MESSAGE_BYTES + 2,
  });
  const handle = serveStdio(() => createServer(app), {
    transport,
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
      process.stdin.unpipe(input);
      input.destroy();
      try {
        await handle.close();
      } catch (error) {
        log.warn({ event: 'stdio_close_failed', err: error }, 'closing the stdio transport failed');
      }
      if (output !== process.stdout) output.end();
      markClosed();
    })();
    return closing;
  };
  // The MCP stdio binding: a client ends the session by closing our stdin, and the server should then exit.
  const onInputEnd = () => {
    log.info({ event: 'stdin_closed' }, 'client closed stdin; stopping');
    void close();
  };
  if (early?.ended || process.stdin.readableEnded) setImmediate(onInputEnd);
  else {
    process.stdin.once('end', onInputEnd);
    process.stdin.once('close', onInputEnd);
  }
  log.info({ event: 'listening', transport: 'stdio', version: app.version }, 'exai-mcp serving on stdio');
  return { closed, close };
}
