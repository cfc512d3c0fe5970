/** What every bench prints with: a plain-text table and quantiles. */

/**
 * A table with a header row and a rule under it; `numbersRight`: every column but the first right-aligned (figures
 * line up by their last digit).
 */
export function table(rows: string[][], numbersRight = false): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  const cell = (c: string, i: number) => (numbersRight && i > 0 ? c.padStart(widths[i]) : c.padEnd(widths[i]));
  return rows.map((r, n) => r.map(cell).join('  ') + (n === 0 ? '\n' + widths.map((w) => '-'.repeat(w)).join('  ') : '')).join('\n');
}

/** The q-quantile (0..1) of `values`, nearest rank; NaN for none. */
export function quantile(values: number[], q: number): number {
  if (!values.length) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

/** Runs a bench's `main` when its file is the program (`ts-node test/bench/x.bench.ts`), and exits 1 on an error. */
export function runWhenMain(mod: NodeModule, main: () => unknown): void {
  if (require.main !== mod) return;
  Promise.resolve()
    .then(main)
    .then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
}
