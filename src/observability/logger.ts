/**
 * JSON logs on stderr (stdout belongs to the MCP protocol in stdio mode). No key ever enters a log record:
 * keys live only in the provider settings and the Authorization header, neither of which is logged (tests
 * read the log output for them). Path redaction was measured at ~2 % of a call's CPU for nothing to redact.
 */
import { type DestinationStream, type Logger, pino } from 'pino';

export type { Logger };

export interface LoggerOptions {
  level: string;
  /** Defaults to fd 2. Tests pass a stream to read what was logged. */
  destination?: DestinationStream;
}

export function createLogger(options: LoggerOptions): Logger {
  return pino(
    {
      level: options.level,
      base: { pid: process.pid, name: 'exai-mcp' },
    },
    options.destination ?? pino.destination({ fd: 2, sync: false }),
  );
}

/** A logger that drops everything, for tests and library use. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
