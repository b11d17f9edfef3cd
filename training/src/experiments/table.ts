// Markdown tables for experiment summaries: readable as plain text in a terminal and rendered on GitHub.
import { formatTick } from '../plots/ticks.js';

/** Columns padded to equal width; every row must have one cell per header. */
export function markdownTable(headers: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  rows.forEach((row, k) => {
    if (row.length !== headers.length)
      throw new RangeError(`table row ${k} has ${row.length} cells for ${headers.length} columns`);
  });
  const widths = headers.map((h, c) => Math.max(h.length, 3, ...rows.map((r) => r[c]!.length)));
  const line = (cells: readonly string[]): string => `| ${cells.map((cell, c) => cell.padEnd(widths[c]!)).join(' | ')} |`;
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

/** A number for a table: fixed decimals, "∞" for infinities, "–" for missing values. */
export function formatNumber(value: number | null | undefined, decimals: number): string {
  if (value === null || value === undefined || Number.isNaN(value)) return '–';
  if (value === Infinity) return '∞';
  if (value === -Infinity) return '−∞';
  return formatTick(value, decimals);
}
