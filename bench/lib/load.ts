/** Load generators: every loop is bounded both in calls and in time. */

export interface LoadResult {
  calls: number;
  errors: number;
  wallMs: number;
  /** Latency of each successful call, ms. */
  latencies: Float64Array;
  firstError?: unknown;
}

export interface ClosedLoopOptions {
  concurrency: number;
  /** Stop issuing new calls after this long (calls in flight still finish). */
  durationMs: number;
  /** Stop issuing new calls after this many. */
  maxCalls: number;
}

/** `concurrency` workers, each issuing its next call as soon as the last one settles. */
export async function closedLoop(
  fn: () => Promise<unknown>,
  options: ClosedLoopOptions,
): Promise<LoadResult> {
  const latencies = new Float64Array(options.maxCalls);
  let issued = 0;
  let calls = 0;
  let errors = 0;
  let firstError: unknown;
  const started = performance.now();
  const stopAt = started + options.durationMs;
  const worker = async () => {
    while (issued < options.maxCalls && performance.now() < stopAt) {
      issued++;
      const t0 = performance.now();
      try {
        await fn();
        latencies[calls++] = performance.now() - t0;
      } catch (error) {
        errors++;
        firstError ??= error;
      }
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  const result: LoadResult = {
    calls,
    errors,
    wallMs: performance.now() - started,
    latencies: latencies.subarray(0, calls),
  };
  if (firstError !== undefined) result.firstError = firstError;
  return result;
}

export interface Outcome<T> {
  ok: boolean;
  value?: T;
  error?: unknown;
  /** performance.now() when the call started and when it settled. */
  startedAt: number;
  endedAt: number;
}

/** Starts `count` calls at once and waits for all of them (each call must bound itself). */
export async function burst<T>(count: number, fn: (i: number) => Promise<T>): Promise<Outcome<T>[]> {
  return Promise.all(
    Array.from({ length: count }, async (_, i): Promise<Outcome<T>> => {
      const startedAt = performance.now();
      try {
        const value = await fn(i);
        return { ok: true, value, startedAt, endedAt: performance.now() };
      } catch (error) {
        return { ok: false, error, startedAt, endedAt: performance.now() };
      }
    }),
  );
}
