/**
 * MCP progress while a model call runs. Hosts that reset their request timeout on progress (Claude Code,
 * the SDK's resetTimeoutOnProgress) keep waiting as long as these arrive, so a heartbeat goes out at least
 * every PROGRESS_INTERVAL_SECS, plus one at each notable event (retry, fallback, web search). Progress
 * values strictly increase per token, as the spec requires; nothing is sent after stop().
 */
import type { ProgressToken, ServerContext } from '@modelcontextprotocol/server';
import type { Logger } from '../observability/logger.js';
import type { CallEvent } from '../providers/types.js';
import { CHARS_PER_TOKEN } from '../tokens.js';
import type { ProgressReporter, ProgressWork, ToolDeps } from '../tools/types.js';

export interface ProgressParams {
  progressToken: ProgressToken;
  progress: number;
  message: string;
}

export interface ProgressOptions extends ProgressWork {
  /** The request's progress token; without one nothing is ever sent. */
  token: ProgressToken | undefined;
  send: (params: ProgressParams) => Promise<void>;
  intervalMs: number;
  /** Monotonic clock in ms; injectable for tests. */
  now?: () => number;
  onSendError?: (error: unknown) => void;
}

const NOOP: ProgressReporter = { onEvent: () => {}, stop: () => {} };
/** Below this a heartbeat would be noise, whatever the setting says. */
const MIN_INTERVAL_MS = 10;

export function startProgress(options: ProgressOptions): ProgressReporter {
  const { token } = options;
  if (token === undefined) return NOOP;
  const now = options.now ?? (() => performance.now());
  const started = now();
  let count = 0;
  let model = options.model;
  let attempt = 1;
  let chars = 0;
  let stopped = false;

  const emit = (what: string) => {
    if (stopped) return;
    count += 1;
    const parts = [`${options.tool} · ${model}: ${what}`, `${formatElapsed(now() - started)} elapsed`];
    if (attempt > 1) parts.push(`attempt ${attempt}`);
    // Characters only (the text itself is not kept): a liveness hint, not an invoice.
    if (chars > 0) parts.push(`~${Math.ceil(chars / CHARS_PER_TOKEN)} tokens so far`);
    options
      .send({ progressToken: token, progress: count, message: parts.join(' · ') })
      .catch(error => options.onSendError?.(error));
  };

  emit('started');
  const timer = setInterval(
    () => emit(chars > 0 ? 'receiving the answer' : 'waiting for the model'),
    Math.max(MIN_INTERVAL_MS, options.intervalMs),
  );
  // Only a heartbeat: the call it reports on is what keeps the process busy.
  timer.unref();

  return {
    onEvent(event: CallEvent) {
      switch (event.type) {
        case 'attempt_start':
          model = event.model;
          attempt = event.attempt;
          if (event.attempt > 1) emit(`attempt ${event.attempt} started`);
          break;
        case 'retry':
          emit(
            `attempt ${event.attempt} failed (${event.reason}); retrying in ${formatElapsed(event.delayMs)}`,
          );
          break;
        case 'fallback':
          chars = 0;
          model = event.to.model;
          emit(`${event.from.model} unavailable (${event.reason}); falling back`);
          break;
        case 'web_search':
          emit(`web search round ${event.iteration}`);
          break;
        case 'delta':
          chars += event.text.length;
          break;
      }
    },
    stop() {
      stopped = true;
      clearInterval(timer);
    },
  };
}

/** The progress port tools see, bound to the interval setting; one reporter per request. */
export function progressFactory(intervalMs: number, logger: Logger): ToolDeps['progress'] {
  return (ctx: ServerContext, work: ProgressWork) =>
    startProgress({
      ...work,
      token: ctx.mcpReq._meta?.progressToken,
      intervalMs,
      send: params => ctx.mcpReq.notify({ method: 'notifications/progress', params: { ...params } }),
      // The client went away mid-call: the call's own signal handles that; nothing to do here.
      onSendError: error =>
        logger.debug({ event: 'progress_send_failed', err: error }, 'progress not delivered'),
    });
}

function formatElapsed(ms: number): string {
  return ms < 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms / 1000)} s`;
}
