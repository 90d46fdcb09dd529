/** Order statistics of timing samples (milliseconds). Pure. */
export interface Summary {
  readonly count: number;
  readonly median: number;
  readonly p95: number;
  readonly min: number;
  readonly max: number;
}

/** Nearest-rank percentile, `q` in [0, 1]; NaN for no samples. */
export function percentile(samples: readonly number[], q: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank] as number;
}

/** The middle value; the mean of the two middle values for an even count. */
export function median(samples: readonly number[]): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

export function summarise(samples: readonly number[]): Summary {
  return {
    count: samples.length,
    median: median(samples),
    p95: percentile(samples, 0.95),
    min: samples.length === 0 ? Number.NaN : Math.min(...samples),
    max: samples.length === 0 ? Number.NaN : Math.max(...samples),
  };
}

/**
 * Runs `rounds` rounds of every variant, one sample each per round, in the order A, B, C, A, B, C, ... with the
 * starting variant rotating each round so no variant always follows the same one. `warmup` extra rounds run first
 * and are discarded (file cache, CPU frequency). Sequential: one sample at a time. Returns samples per variant.
 */
export async function interleave<K extends string>(
  variants: readonly K[],
  options: { readonly rounds: number; readonly warmup?: number },
  sample: (variant: K, round: number) => Promise<number>,
): Promise<Record<K, number[]>> {
  const samples = Object.fromEntries(variants.map((v) => [v, [] as number[]])) as Record<K, number[]>;
  const warmup = options.warmup ?? 1;
  for (let round = -warmup; round < options.rounds; round++) {
    const offset = ((round % variants.length) + variants.length) % variants.length;
    for (let i = 0; i < variants.length; i++) {
      const variant = variants[(i + offset) % variants.length] as K;
      const value = await sample(variant, round);
      if (round >= 0) samples[variant].push(value);
    }
  }
  return samples;
}

/**
 * How far a figure moves between parts of one run: the median of the medians of consecutive batches (or of rounds),
 * and the lowest and highest of them. Publishing `low`–`high` (rather than one median) states what a rerun on the same machine
 * reproduces; a rerun whose medians fall outside it says the machine was not the same (or not quiet).
 */
export interface Spread {
  readonly median: number;
  readonly low: number;
  readonly high: number;
}

/**
 * `samples` (in the order taken) cut into `batches` consecutive groups of near-equal size, the median of each. Fewer
 * samples than batches give one group per sample.
 */
export function batchMedians(samples: readonly number[], batches: number): number[] {
  const count = Math.max(1, Math.min(batches, samples.length));
  const out: number[] = [];
  for (let b = 0; b < count; b++) {
    const from = Math.floor((b * samples.length) / count);
    const to = Math.floor(((b + 1) * samples.length) / count);
    out.push(median(samples.slice(from, to)));
  }
  return out;
}

/** The median of `samples`' batch medians, and their range. */
export function spreadOf(samples: readonly number[], batches: number): Spread {
  return spreadOfRounds(batchMedians(samples, batches));
}

/**
 * `a` over `b` where both were sampled in the same rounds (index i of each taken side by side): the ratio of their
 * medians batch by batch, and the median and range of those ratios (so the figure always lies within its range).
 */
export function ratioSpread(a: readonly number[], b: readonly number[], batches: number): Spread {
  const mb = batchMedians(b, batches);
  return spreadOfRounds(batchMedians(a, batches).map((value, i) => value / (mb[i] ?? Number.NaN)));
}

/** The median, low and high of per-round figures (each round already one figure, e.g. a ratio of round medians). */
export function spreadOfRounds(values: readonly number[]): Spread {
  return { median: median(values), low: Math.min(...values), high: Math.max(...values) };
}
