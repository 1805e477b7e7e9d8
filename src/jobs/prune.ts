/**
 * Forgets finished entries of an in-memory table: those whose keep-until time has passed, then the oldest
 * beyond `keep` (a Map iterates in insertion order). Entries still running (keep-until undefined) stay.
 */
export function pruneFinished<K, V>(
  table: Map<K, V>,
  keepUntil: (value: V) => number | undefined,
  now: number,
  keep: number,
): void {
  let finished = 0;
  for (const [key, value] of table) {
    const until = keepUntil(value);
    if (until === undefined) continue;
    if (until <= now) table.delete(key);
    else finished++;
  }
  for (const [key, value] of table) {
    if (finished <= keep) break;
    if (keepUntil(value) === undefined) continue;
    table.delete(key);
    finished--;
  }
}
