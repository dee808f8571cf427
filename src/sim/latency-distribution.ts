/**
 * The issuer simulator's answer latency: a fixed delay, or a log-normal
 * distribution given by its median and 99th percentile. Log-normal because
 * service times are: most answers near the median, a long right tail, never
 * negative; and two percentiles are what an operator knows of an issuer.
 */
export interface LatencyDistribution {
  readonly p50Ms: number;
  /** Equal to p50Ms: a fixed latency. */
  readonly p99Ms: number;
}

/** The standard normal's 99th percentile. */
const Z_99 = 2.326_347_874_040_840_8;
/** Far beyond any tail a sane p50/p99 gives; keeps a freak draw from holding an answer for hours. */
export const LATENCY_MS_MAX = 600_000;

/**
 * A sampler drawing from `random` (uniform in [0, 1)). It takes exactly two
 * draws per sample, fixed latency included, so the draws that follow in a
 * shared seeded stream do not depend on the distribution chosen.
 */
export function latencySampler(distribution: LatencyDistribution, random: () => number): () => number {
  const { p50Ms, p99Ms } = distribution;
  if (p99Ms <= p50Ms || p50Ms <= 0) {
    return () => {
      random();
      random();
      return p50Ms;
    };
  }
  const sigma = Math.log(p99Ms / p50Ms) / Z_99;
  return () => {
    // Box-Muller; 1 - u keeps the logarithm's argument in (0, 1].
    const radius = Math.sqrt(-2 * Math.log(1 - random()));
    const z = radius * Math.cos(2 * Math.PI * random());
    return Math.min(p50Ms * Math.exp(sigma * z), LATENCY_MS_MAX);
  };
}
