/**
 * `exai-mcp [stdio]` and `exai-mcp http`: load the settings, build the App once, serve, and shut down
 * cleanly on SIGINT/SIGTERM (stop accepting, abort calls in flight, close the store) within a few seconds.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { type Config, ConfigError, loadConfig } from '../config/load.js';
import type { SettingKey } from '../config/settings.js';
import { isExaiError } from '../errors.js';
import { createLogger, type Logger, resolveLogFormat } from '../observability/logger.js';
import { type App, createApp } from '../server/app.js';
import type { RunningHttpServer } from '../server/http/server.js';
import { serveOverStdio } from '../server/stdio.js';
import type { EarlyStdio } from '../server/stdio-early.js';

/** After a signal, exit even if something still holds the event loop. */
const FORCE_EXIT_MS = 5_000;

const STDIO_USAGE =
  'Usage: exai-mcp [stdio]\n\nServes MCP over stdio. Takes no options; settings come from the environment and .env.';
const HTTP_USAGE = `Usage: exai-mcp http [--host H] [--port P]

Serves MCP over Streamable HTTP at http://H:P/mcp (and GET /healthz).
  --host H   address to bind (default EXAI_HTTP_HOST or 127.0.0.1; beyond loopback needs EXAI_HTTP_TOKEN)
  --port P   port (default EXAI_HTTP_PORT or 8079; 0 picks a free one)
  -h, --help show this help`;

/** `early`: stdin as read, and answered, while this module loaded (server/stdio-early.ts). */
export async function runStdio(argv: string[], early?: { handOver(): EarlyStdio }): Promise<number> {
  const flags = parseFlags('stdio', argv, STDIO_USAGE, {});
  if (typeof flags === 'number') return flags;
  // stdout is the JSON-RPC channel: a stray console.log from any library must not corrupt it.
  console.log = console.error;
  console.info = console.error;
  console.debug = console.error;
  const started = await startApp({});
  if (typeof started === 'number') return started;
  const { app, logger } = started;
  const server = serveOverStdio(app, early?.handOver());
  const signals = onSignals(logger, async () => {
    // Calls in flight answer "shutting down" and the answer is written before the connection goes.
    app.stopCalls();
    await app.idle(1_000);
    await delay(50);
    await server.close();
  });
  await server.closed;
  await app.close();
  signals.dispose();
  exitSoon(0);
  return 0;
}

export async function runHttp(argv: string[]): Promise<number> {
  const flags = parseFlags('http', argv, HTTP_USAGE, { host: { type: 'string' }, port: { type: 'string' } });
  if (typeof flags === 'number') return flags;
  const started = await startApp(
    {
      ...(flags.host !== undefined && { httpHost: flags.host }),
      ...(flags.port !== undefined && { httpPort: flags.port }),
    },
    { httpHost: '--host', httpPort: '--port' },
  );
  if (typeof started === 'number') return started;
  const { app, config, logger } = started;
  // Loaded here, not at the top: a stdio server (what IDEs spawn, and wait for) never needs the HTTP edge.
  const [{ startHttpServer }, { httpBanner }] = await Promise.all([
    import('../server/http/server.js'),
    import('./banner.js'),
  ]);
  let http: RunningHttpServer;
  try {
    http = await startHttpServer(app, { host: config.httpHost, port: config.httpPort });
  } catch (error) {
    await app.close();
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') {
      process.stderr.write(
        `exai-mcp http: port ${config.httpPort} on ${config.httpHost} is in use. Pick another with --port or EXAI_HTTP_PORT.\n`,
      );
      return 1;
    }
    process.stderr.write(`exai-mcp http: ${(error as Error).message}\n`);
    return isExaiError(error) ? 2 : 1;
  }
  process.stderr.write(httpBanner(app, http));
  let stop: () => void = () => {};
  const stopped = new Promise<void>(resolve => {
    stop = resolve;
  });
  const signals = onSignals(logger, async () => stop());
  await stopped;
  app.stopCalls();
  await http.close();
  await app.close();
  signals.dispose();
  exitSoon(0);
  return 0;
}

type FlagSpec = Record<string, { type: 'string' | 'boolean' }>;

function parseFlags(
  command: string,
  argv: string[],
  usage: string,
  options: FlagSpec,
): Record<string, string | undefined> | number {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: { ...options, help: { type: 'boolean', short: 'h' } },
    }));
  } catch (error) {
    process.stderr.write(`exai-mcp ${command}: ${(error as Error).message}\n\n${usage}\n`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(`${usage}\n`);
    return 0;
  }
  return Object.fromEntries(Object.entries(values).filter(([, v]) => typeof v === 'string')) as Record<
    string,
    string
  >;
}

async function startApp(
  overrides: Partial<Record<SettingKey, unknown>>,
  flagNames: Partial<Record<SettingKey, string>> = {},
): Promise<{ app: App; config: Config; logger: Logger } | number> {
  let config: Config;
  try {
    config = loadConfig({ overrides, flagNames });
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`exai-mcp: ${error.message}\n`);
      return 2;
    }
    throw error;
  }
  const logger = createLogger({
    level: config.logLevel,
    format: resolveLogFormat(config.logFormat, process.stderr.isTTY === true),
  });
  process.on('unhandledRejection', reason => {
    // A server keeps serving other requests; the log says what escaped.
    logger.error({ event: 'unhandled_rejection', err: reason }, 'unhandled promise rejection');
  });
  let app: App;
  try {
    app = createApp(config, { logger });
  } catch (error) {
    process.stderr.write(`exai-mcp: cannot start: ${(error as Error).message}\n`);
    return 1;
  }
  try {
    // A network store (EXAI_STORE=redis) must answer before anything is served: a wrong REDIS_URL or a Redis
    // that is down fails here, within its connect timeout, not on a user's first call.
    await app.store.ready?.();
  } catch (error) {
    await app.close();
    process.stderr.write(`exai-mcp: cannot start: ${(error as Error).message}\n`);
    return 2;
  }
  return { app, config, logger };
}

function onSignals(logger: Logger, stop: () => Promise<void>): { dispose(): void } {
  const handler = (signal: NodeJS.Signals) => {
    logger.info({ event: 'shutdown', signal }, `received ${signal}; shutting down`);
    setTimeout(() => {
      process.stderr.write(`exai-mcp: shutdown took over ${FORCE_EXIT_MS / 1000} s; exiting anyway.\n`);
      process.exit(1);
    }, FORCE_EXIT_MS).unref();
    void stop();
  };
  process.once('SIGINT', handler);
  process.once('SIGTERM', handler);
  return {
    dispose() {
      process.off('SIGINT', handler);
      process.off('SIGTERM', handler);
    },
  };
}

/** Lets the event loop drain (logs flush), but does not wait on a handle nobody will close, such as stdin. */
function exitSoon(code: number): void {
  process.exitCode = code;
  setTimeout(() => process.exit(code), 500).unref();
}
