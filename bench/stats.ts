/** The figures every benchmark prints: the median and the 99th percentile of its samples. */
export interface Percentiles {
  median: number;
  p99: number;
}

export function percentiles(samples: number[]): Percentiles {
  const sorted = [...samples].sort((a, b) => a - b);
  return { median: sorted[Math.floor(sorted.length / 2)]!, p99: sorted[Math.floor(sorted.length * 0.99)]! };
}

/** The same "random" numbers every run (a linear congruential generator), so runs compare. */
export function seededRandom(seed = 42): () => number {
  let state = seed;
  return () => (state = (state * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
}
