/**
 * A child AbortController linked to a parent signal, with explicit disposal so that no listener outlives
 * the work it served. (AbortSignal.any is avoided on purpose: on Node 20 it holds sources weakly.)
 */
export interface LinkedController {
  readonly signal: AbortSignal;
  abort(reason: unknown): void;
  dispose(): void;
}

export function linkedController(parent?: AbortSignal): LinkedController {
  const controller = new AbortController();
  const onAbort = () => controller.abort(parent?.reason);
  if (parent?.aborted) controller.abort(parent.reason);
  else parent?.addEventListener('abort', onAbort, { once: true });
  return {
    signal: controller.signal,
    abort: reason => controller.abort(reason),
    dispose: () => parent?.removeEventListener('abort', onAbort),
  };
}
