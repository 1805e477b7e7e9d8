/**
 * Rolling latency and outcome statistics per provider and model, kept in memory for the status tool.
 * A fixed-size ring of recent samples bounds memory whatever the traffic.
 */
import type { ErrorKind } from '../errors.js';

export type Outcome = 'ok' | ErrorKind;

export interface LatencySummary {
  count: number;
  p50: number;
  p95: number;
  p99: number;
}

export interface CallStatsSnapshot {
  calls: number;
  outcomes: Partial<Record<Outcome, number>>;
  latencyMs: LatencySummary;
  retries: number;
  stalls: number;
  fallbacks: number;
  lastErrors: Array<{ at: string; kind: ErrorKind; model: string; message: string }>;
  byModel: Record<
    string,
    { calls: number; outcomes: Partial<Record<Outcome, number>>; latencyMs: LatencySummary }
  >;
}

class Ring {
  private readonly values: Float64Array;
  private next = 0;
  private size = 0;
  constructor(capacity: number) {
    this.values = new Float64Array(capacity);
  }
  push(value: number): void {
    this.values[this.next] = value;
    this.next = (this.next + 1) % this.values.length;
    this.size = Math.min(this.size + 1, this.values.length);
  }
  summary(): LatencySummary {
    const sorted = this.values.slice(0, this.size).sort();
    const at = (q: number) =>
      sorted.length ? (sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? 0) : 0;
    return { count: sorted.length, p50: round(at(0.5)), p95: round(at(0.95)), p99: round(at(0.99)) };
  }
}

const round = (n: number) => Math.round(n * 10) / 10;

interface Bucket {
  calls: number;
  outcomes: Partial<Record<Outcome, number>>;
  ring: Ring;
}

export interface CallStats {
  record(model: string, outcome: Outcome, elapsedMs: number, message?: string): void;
  countRetry(): void;
  countStall(): void;
  countFallback(): void;
  snapshot(): CallStatsSnapshot;
}

export function createCallStats(sampleSize = 2048, keepErrors = 10): CallStats {
  const total: Bucket = { calls: 0, outcomes: {}, ring: new Ring(sampleSize) };
  const models = new Map<string, Bucket>();
  const lastErrors: CallStatsSnapshot['lastErrors'] = [];
  let retries = 0;
  let stalls = 0;
  let fallbacks = 0;

  const add = (bucket: Bucket, outcome: Outcome, elapsedMs: number) => {
    bucket.calls++;
    bucket.outcomes[outcome] = (bucket.outcomes[outcome] ?? 0) + 1;
    bucket.ring.push(elapsedMs);
  };

  return {
    record(model, outcome, elapsedMs, message) {
      add(total, outcome, elapsedMs);
      let bucket = models.get(model);
      if (!bucket) {
        bucket = { calls: 0, outcomes: {}, ring: new Ring(256) };
        models.set(model, bucket);
      }
      add(bucket, outcome, elapsedMs);
      if (outcome !== 'ok') {
        lastErrors.unshift({ at: new Date().toISOString(), kind: outcome, model, message: message ?? '' });
        lastErrors.length = Math.min(lastErrors.length, keepErrors);
      }
    },
    countRetry: () => void retries++,
    countStall: () => void stalls++,
    countFallback: () => void fallbacks++,
    snapshot: () => ({
      calls: total.calls,
      outcomes: { ...total.outcomes },
      latencyMs: total.ring.summary(),
      retries,
      stalls,
      fallbacks,
      lastErrors: [...lastErrors],
      byModel: Object.fromEntries(
        [...models].map(([name, b]) => [
          name,
          { calls: b.calls, outcomes: { ...b.outcomes }, latencyMs: b.ring.summary() },
        ]),
      ),
    }),
  };
}
