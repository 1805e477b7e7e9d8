/**
 * Recent activity for the live status page: the last tool calls, and per-provider latency over the last
 * minutes in fixed time buckets. Buckets rotate lazily on write and read, so no timer runs for it.
 */
export interface ToolCallRecord {
  at: string;
  tool: string;
  model?: string;
  provider?: string;
  ms: number;
  outcome: string;
}

export interface SeriesPoint {
  /** Bucket start, epoch ms. */
  t: number;
  providers: Record<string, { calls: number; errors: number; p50: number; p95: number }>;
}

export interface Activity {
  /** Width of one series bucket, ms. */
  readonly bucketMs: number;
  recordToolCall(record: Omit<ToolCallRecord, 'at'>): void;
  recordProviderCall(provider: string, ms: number, ok: boolean): void;
  recent(): ToolCallRecord[];
  series(): SeriesPoint[];
}

interface Bucket {
  t: number;
  samples: Map<string, { durations: number[]; errors: number }>;
}

export function createActivity(
  options: { bucketMs?: number; buckets?: number; keepCalls?: number; now?: () => number } = {},
): Activity {
  const bucketMs = options.bucketMs ?? 5_000;
  const keep = options.buckets ?? 120;
  const keepCalls = options.keepCalls ?? 50;
  const now = options.now ?? Date.now;
  const calls: ToolCallRecord[] = [];
  const buckets: Bucket[] = [];

  const current = (): Bucket => {
    const t = Math.floor(now() / bucketMs) * bucketMs;
    let last = buckets[buckets.length - 1];
    if (!last || last.t !== t) {
      last = { t, samples: new Map() };
      buckets.push(last);
      while (buckets.length > 0 && (buckets[0]?.t ?? t) <= t - keep * bucketMs) buckets.shift();
    }
    return last;
  };

  return {
    bucketMs,
    recordToolCall(record) {
      calls.unshift({ at: new Date(now()).toISOString(), ...record });
      calls.length = Math.min(calls.length, keepCalls);
    },
    recordProviderCall(provider, ms, ok) {
      const bucket = current();
      let sample = bucket.samples.get(provider);
      if (!sample) {
        sample = { durations: [], errors: 0 };
        bucket.samples.set(provider, sample);
      }
      // A bucket keeps at most a few thousand samples: enough for a p95, bounded under any load.
      if (sample.durations.length < 4_096) sample.durations.push(ms);
      if (!ok) sample.errors++;
    },
    recent: () => calls.map(c => ({ ...c })),
    series() {
      current();
      return buckets.map(b => ({
        t: b.t,
        providers: Object.fromEntries(
          [...b.samples].map(([provider, s]) => {
            const sorted = [...s.durations].sort((x, y) => x - y);
            const at = (q: number) =>
              sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? 0;
            return [
              provider,
              { calls: sorted.length, errors: s.errors, p50: Math.round(at(0.5)), p95: Math.round(at(0.95)) },
            ];
          }),
        ),
      }));
    },
  };
}
