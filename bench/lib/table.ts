/** Markdown tables, padded so they read the same in a terminal and in docs/BENCHMARKS.md. */

export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map(r => (r[i] ?? '').length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ')} |`;
  return [
    line(headers),
    `| ${widths.map(w => '-'.repeat(Math.max(3, w))).join(' | ')} |`,
    ...rows.map(line),
  ].join('\n');
}
