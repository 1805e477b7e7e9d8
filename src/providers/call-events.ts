/**
 * What happens during one provider call, as one event stream. The call path emits; stats, metrics, logs and
 * the caller's progress callback subscribe, so none of them is fed by hand from inside the retry loop.
 */
import type { ErrorKind } from '../errors.js';
import type { Logger } from '../observability/logger.js';
import type { CallObserver } from '../observability/metrics.js';
import type { CallStats } from '../observability/stats.js';
import type { CallEvent, ProviderName } from './types.js';

export type ProviderEvent =
  | { type: 'attempt_start'; model: string; attempt: number }
  | {
      type: 'attempt_end';
      model: string;
      attempt: number;
      ms: number;
      outcome: 'ok' | ErrorKind;
      status?: number | undefined;
      code?: string | undefined;
      finish?: string;
      tokens?: number;
      /** The wait before the next attempt, or false when the call stops here. Absent after a success. */
      retry?: number | false;
      /** The output budget of the next attempt, when it was raised. */
      maxOutputTokens?: number;
    }
  | { type: 'stalled'; model: string }
  | { type: 'retry'; model: string; attempt: number; delayMs: number; reason: ErrorKind }
  | { type: 'tool_round'; model: string; round: number }
  | { type: 'call_end'; model: string; outcome: 'ok' | ErrorKind; elapsedMs: number; message?: string };

export type ProviderEventListener = (event: ProviderEvent) => void;

/** The subscribers every call has: rolling stats, Prometheus metrics and the structured log. */
export function standardListeners(
  provider: ProviderName,
  label: string,
  sinks: { stats: CallStats; observer?: CallObserver | undefined; log: Logger },
): ProviderEventListener[] {
  const { stats, observer, log } = sinks;
  return [
    event => {
      if (event.type === 'stalled') stats.countStall();
      else if (event.type === 'retry') stats.countRetry();
      else if (event.type === 'call_end')
        stats.record(event.model, event.outcome, event.elapsedMs, event.message);
    },
    event => {
      if (!observer) return;
      if (event.type === 'stalled') observer.stalled(provider);
      else if (event.type === 'retry') observer.retried(provider, event.reason);
      else if (event.type === 'call_end')
        observer.callEnded(provider, event.model, event.outcome, event.elapsedMs / 1000);
    },
    event => {
      if (event.type === 'attempt_start') {
        log.debug({ event: 'attempt_start', model: event.model, attempt: event.attempt }, 'attempt start');
      } else if (event.type === 'attempt_end') {
        const { type, ...fields } = event;
        const text =
          event.outcome === 'ok'
            ? `${label} attempt ${event.attempt} ok`
            : event.maxOutputTokens !== undefined
              ? `${label} attempt ${event.attempt} used its output budget on reasoning; retrying with ${event.maxOutputTokens} tokens`
              : `${label} attempt ${event.attempt} failed: ${event.outcome}`;
        log.info({ event: type, ...fields }, text);
      }
    },
  ];
}

/** The caller's progress callback sees attempts, retries and tool rounds in its own (public) shape. */
export function callerListener(
  provider: ProviderName,
  onEvent: ((event: CallEvent) => void) | undefined,
): ProviderEventListener | undefined {
  if (!onEvent) return undefined;
  return event => {
    if (event.type === 'attempt_start')
      onEvent({ type: 'attempt_start', provider, model: event.model, attempt: event.attempt });
    else if (event.type === 'retry')
      onEvent({
        type: 'retry',
        provider,
        model: event.model,
        attempt: event.attempt,
        delayMs: event.delayMs,
        reason: event.reason,
      });
    else if (event.type === 'tool_round') onEvent({ type: 'web_search', iteration: event.round });
  };
}

/** One emit function over several listeners; a listener's bug never fails the call. */
export function emitterFor(listeners: Array<ProviderEventListener | undefined>): ProviderEventListener {
  const live = listeners.filter((l): l is ProviderEventListener => l !== undefined);
  return event => {
    for (const listener of live) {
      try {
        listener(event);
      } catch {
        // Stats, metrics, logs and progress are observers: their failure must not change the call's outcome.
      }
    }
  };
}
