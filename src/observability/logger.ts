/**
 * Logs on stderr (stdout belongs to the MCP protocol in stdio mode): JSON lines for collectors, or one line
 * of words per record for a person at a terminal. No key ever enters a log record: keys live only in the
 * provider settings and the Authorization header, neither of which is logged (tests read the log output for
 * them). Path redaction was measured at ~2 % of a call's CPU for nothing to redact.
 */
import { type DestinationStream, type Logger, pino } from 'pino';

export type { Logger };

export type LogFormat = 'json' | 'text';

export interface LoggerOptions {
  level: string;
  /** Default json. */
  format?: LogFormat;
  /** Defaults to fd 2. Tests pass a stream to read what was logged. */
  destination?: DestinationStream;
}

export function createLogger(options: LoggerOptions): Logger {
  const destination = options.destination ?? pino.destination({ fd: 2, sync: false });
  return pino(
    {
      level: options.level,
      base: { pid: process.pid, name: 'exai-mcp' },
    },
    options.format === 'text' ? textDestination(destination) : destination,
  );
}

/** LOG_FORMAT=auto: words for a person reading a terminal, JSON for whatever collects a pipe or a file. */
export function resolveLogFormat(setting: string, stderrIsTerminal: boolean): LogFormat {
  if (setting === 'json' || setting === 'text') return setting;
  return stderrIsTerminal ? 'text' : 'json';
}

const LEVEL_NAMES: Readonly<Record<number, string>> = {
  10: 'trace',
  20: 'debug',
  30: 'info',
  40: 'warning',
  50: 'error',
  60: 'fatal',
};

/** `12:04:31 warning: falling back to glm-4.7`, with the error's message when the record carries one. */
export function textLine(record: Record<string, unknown>): string {
  const time = typeof record.time === 'number' ? new Date(record.time).toTimeString().slice(0, 8) : '';
  const level = LEVEL_NAMES[record.level as number] ?? String(record.level);
  const err = record.err as { message?: unknown } | undefined;
  const detail = typeof err?.message === 'string' && err.message !== '' ? `: ${err.message}` : '';
  return `${time} ${level}: ${String(record.msg ?? record.event ?? '')}${detail}\n`;
}

function textDestination(inner: DestinationStream & { flush?: (cb?: () => void) => void }) {
  return {
    // logger.flush() reaches the file descriptor's buffer through this wrapper.
    flush(cb?: () => void) {
      if (inner.flush) inner.flush(cb);
      else cb?.();
    },
    write(line: string) {
      let record: Record<string, unknown>;
      try {
        record = JSON.parse(line) as Record<string, unknown>;
      } catch {
        inner.write(line);
        return;
      }
      inner.write(textLine(record));
    },
  };
}

/** A logger that drops everything, for tests and library use. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
