// Small text helpers shared by the CLI commands: byte sizes for people and left-aligned tables.

/** 1536 -> '1.5 KiB'. @example human(3 * 1024 ** 2) // '3.00 MiB' */
export function human(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 ** 2) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 ** 2).toFixed(2)} MiB`;
}

/** Left-aligned text table (columns two spaces apart). @example table([['op', 'count'], ['Add', '3']]) */
export function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows.map((r) => r.map((v, c) => v.padEnd(widths[c]!)).join('  ').trimEnd()).join('\n');
}
