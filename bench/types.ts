/**
 * One benchmark's result: our path measured against a baseline (raw SQL, COPY, a bare server)
 * in the same run, on the same machine, so the ratio means something even when the machine
 * is slower or busier than usual.
 */
export interface BenchResult {
  name: string;
  /** What `value` and `baseline.value` count, e.g. "requests/s", "transactions/s", "ms". */
  unit: string;
  value: number;
  baseline: { name: string; value: number };
  /** Our value over the baseline's; read with `higherIsBetter`. */
  ratio: number;
  higherIsBetter: boolean;
  /** The target the issue sets, e.g. "ratio >= 0.5", and whether this run met it. */
  target?: { text: string; met: boolean };
  engine?: 'pglite' | 'postgres' | 'none';
  details?: Record<string, unknown>;
}

export interface Benchmark {
  name: string;
  description: string;
  run(): Promise<BenchResult[]>;
}

export function result(r: Omit<BenchResult, 'ratio'>): BenchResult {
  const ratio = r.baseline.value === 0 ? 0 : r.value / r.baseline.value;
  return { ...r, ratio: Math.round(ratio * 1000) / 1000 };
}
