/**
 * How durations read in messages people see (timeouts, retry decisions, breaker waits): one form everywhere,
 * so "timed out after 300 s" in an error and "300 s of budget remain" in a log compare at a glance.
 */

/** "1.5 s", "300 s", "0.05 s": three significant digits below 100 s, whole seconds above. */
export function formatSeconds(ms: number): string {
  const s = ms / 1000;
  return `${s >= 100 ? Math.round(s) : Number(s.toPrecision(3))} s`;
}
