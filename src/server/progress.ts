/**
 * MCP progress while a model job runs. Hosts that reset their request timeout on progress (Claude Code,
 * the SDK's resetTimeoutOnProgress) keep waiting as long as these arrive, so a heartbeat goes out at least
 * every PROGRESS_INTERVAL_SECS, plus one at each notable event (retry, fallback, web search). Claude Code
 * shows the message to the user, so it says what the model is doing in words ("thinkdeep: glm-5.1
 * thinking, 74 s, 1,820 reasoning tokens"), read from the job itself: a call that joins a running job
 * reports the job's whole story, not just what happened since it joined. Progress values strictly increase
 * per token, as the spec requires; nothing is sent after stop().
 */
import type { ProgressToken, ServerContext } from '@modelcontextprotocol/server';
import { describeJob, type JobView } from '../jobs/view.js';
import type { Logger } from '../observability/logger.js';
import type { CallEvent } from '../providers/types.js';
import type { ProgressReporter, ProgressWork, ToolDeps } from '../toolkit/types.js';

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

const NOOP: ProgressReporter = { watch: () => {}, onEvent: () => {}, stop: () => {} };
/** Below this a heartbeat would be noise, whatever the setting says. */
const MIN_INTERVAL_MS = 10;

export function startProgress(options: ProgressOptions): ProgressReporter {
  const { token } = options;
  if (token === undefined) return NOOP;
  const now = options.now ?? (() => performance.now());
  const started = now();
  const jobs: Array<() => JobView> = [];
  let count = 0;
  let stopped = false;

  /** "glm-5.1 thinking, 74 s, 1,820 reasoning tokens"; several jobs (consensus) side by side. */
  const describe = (): string => {
    const views = jobs.map(current => current());
    const running = views.filter(v => v.phase !== 'done' && v.phase !== 'failed' && v.phase !== 'cancelled');
    if (running.length === 0 && views.length === 0) {
      return `${options.model} starting, ${formatElapsed(now() - started)}`;
    }
    return (running.length > 0 ? running : views).map(describeJob).join('; ');
  };

  const emit = () => {
    if (stopped) return;
    count += 1;
    options
      .send({ progressToken: token, progress: count, message: `${options.tool}: ${describe()}` })
      .catch(error => options.onSendError?.(error));
  };

  emit();
  const timer = setInterval(emit, Math.max(MIN_INTERVAL_MS, options.intervalMs));
  // Only a heartbeat: the call it reports on is what keeps the process busy.
  timer.unref();

  return {
    watch(current) {
      if (!stopped) jobs.push(current);
    },
    onEvent(event: CallEvent) {
      // What a person wants to hear about at once; tokens arriving show in the next heartbeat.
      const notable =
        (event.type === 'attempt_start' && event.attempt > 1) ||
        event.type === 'retry' ||
        event.type === 'fallback' ||
        event.type === 'web_search';
      if (notable) emit();
    },
    stop() {
      stopped = true;
      jobs.length = 0;
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
