/** Percentiles, medians and the number formats every scenario prints. */
import { readFileSync } from 'node:fs';

export interface Summary {
  n: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

/** Nearest-rank percentile of an ascending array (q in 0..1). */
export function percentile(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank] ?? Number.NaN;
}

export function summarize(samples: ArrayLike<number>): Summary {
  const sorted = Float64Array.from(samples).sort();
  let sum = 0;
  for (const v of sorted) sum += v;
  return {
    n: sorted.length,
    p50: percentile(sorted, 0.5),
    p90: percentile(sorted, 0.9),
    p99: percentile(sorted, 0.99),
    max: sorted.length ? (sorted[sorted.length - 1] ?? Number.NaN) : Number.NaN,
    mean: sorted.length ? sum / sorted.length : Number.NaN,
  };
}

export function median(values: number[]): number {
  return percentile(Float64Array.from(values).sort(), 0.5);
}

/** The run whose `key` is the median, so a row's figures all come from one run. */
export function medianBy<T>(runs: T[], key: (run: T) => number): T {
  const sorted = [...runs].sort((a, b) => key(a) - key(b));
  const picked = sorted[Math.ceil(sorted.length / 2) - 1];
  if (picked === undefined) throw new Error('medianBy: no runs');
  return picked;
}

export const ms = (v: number, digits = 1): string => (Number.isFinite(v) ? `${v.toFixed(digits)} ms` : '–');
export const us = (vMs: number): string => (Number.isFinite(vMs) ? `${Math.round(vMs * 1000)} µs` : '–');
export const rate = (perSec: number): string =>
  Number.isFinite(perSec) ? `${Math.round(perSec).toLocaleString('en-US')}/s` : '–';
export const ratio = (v: number): string => (Number.isFinite(v) ? `${v.toFixed(2)}×` : '–');
export const mb = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(0)} MB`;
export const kb = (bytes: number): string => `${(bytes / 1024).toFixed(1)} KB`;
export const int = (v: number): string => Math.round(v).toLocaleString('en-US');

export const sleep = (msDelay: number): Promise<void> => new Promise(r => setTimeout(r, msDelay));

/**
 * The kernel's count of connections dropped because a listen queue was full (Linux; undefined elsewhere).
 * Each drop costs the client a 1 s SYN retransmit, so a burst that causes any measures the accept queue.
 */
export function listenOverflows(): number | undefined {
  try {
    const lines = readFileSync('/proc/net/netstat', 'utf8').split('\n');
    for (let i = 0; i + 1 < lines.length; i += 2) {
      const head = lines[i]?.split(/\s+/) ?? [];
      const values = lines[i + 1]?.split(/\s+/) ?? [];
      const at = head.indexOf('ListenOverflows');
      if (at !== -1) return Number(values[at]);
    }
  } catch {
    // Not Linux.
  }
  return undefined;
}
