/**
 * Small timing helpers shared by the benchmarks: run an operation many times, one after another,
 * and report throughput and latency percentiles.
 */

export interface BenchRow {
  /** What was measured, e.g. "findOne by _id". */
  name: string;
  /** How many documents the collection held while it was measured. */
  docs: number;
  ops: number;
  opsPerSec: number;
  p50us: number;
  p99us: number;
}

/** The median of `xs` (the lower middle one of an even count); NaN for none. */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.floor((s.length - 1) / 2)];
}

/** "met" when `value` is `way` `bound`, else "NOT MET": a target's verdict, as benches print it. */
export function verdict(value: number, way: "at most" | "at least", bound: number): string {
  return (way === "at most" ? value <= bound : value >= bound) ? "met" : "NOT MET";
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

/** Runs `op(i)` for i in [0, ops), sequentially, after `warmup` untimed runs. */
export async function measure(
  name: string,
  docs: number,
  ops: number,
  op: (i: number) => Promise<unknown>,
  warmup = Math.min(200, ops),
): Promise<BenchRow> {
  for (let i = 0; i < warmup; i++) await op(ops + i);
  const lat = new Float64Array(ops);
  const start = performance.now();
  for (let i = 0; i < ops; i++) {
    const t = performance.now();
    await op(i);
    lat[i] = performance.now() - t;
  }
  const total = performance.now() - start;
  const sorted = Array.from(lat).sort((a, b) => a - b);
  return {
    name,
    docs,
    ops,
    opsPerSec: Math.round(ops / (total / 1000)),
    p50us: Math.round(percentile(sorted, 50) * 1000),
    p99us: Math.round(percentile(sorted, 99) * 1000),
  };
}

/** Reads a whole-number setting from the environment, e.g. `BENCH_DOCS=100000`. */
export function envInt(name: string, fallback: number): number {
  const v = Deno.env.get(name);
  if (v === undefined || v === "") return fallback;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n <= 0) throw new Error(`${name} must be a positive integer`);
  return n;
}

/** Prints rows as an aligned table, with each row's ratio to the baseline row of the same name. */
export function printTable(title: string, rows: BenchRow[], baselineDocs: number): void {
  console.log(`\n${title}`);
  console.log(
    "operation".padEnd(28) + "docs".padStart(10) + "ops/s".padStart(10) +
      "p50 µs".padStart(9) + "p99 µs".padStart(9) + "  p50 vs " + baselineDocs,
  );
  for (const r of rows) {
    const base = rows.find((b) => b.name === r.name && b.docs === baselineDocs);
    const ratio = base && base.p50us > 0 ? (r.p50us / base.p50us).toFixed(2) + "x" : "-";
    console.log(
      r.name.padEnd(28) + String(r.docs).padStart(10) + String(r.opsPerSec).padStart(10) +
        String(r.p50us).padStart(9) + String(r.p99us).padStart(9) + "  " + ratio,
    );
  }
}
