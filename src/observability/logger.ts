/**
 * JSON logs on stderr (stdout belongs to the MCP protocol in stdio mode). Authorization headers and keys are
 * redacted by path as a second line of defence; the code never puts a key in a log record in the first place.
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
      redact: {
        paths: [
          'apiKey',
          '*.apiKey',
          'headers.authorization',
          '*.headers.authorization',
          'authorization',
          'token',
        ],
        censor: '[redacted]',
      },
    },
    options.destination ?? pino.destination({ fd: 2, sync: false }),
  );
}

/** A logger that drops everything, for tests and library use. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
