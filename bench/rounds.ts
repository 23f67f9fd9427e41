/**
 * The throughput comparison runs in rounds (scenarios.ts `Sizes.rounds`): each contender once per
 * round, side by side, so that a drift in the machine's speed moves all of them together. These
 * make one set of figures of a contender's rounds.
 */
import { round } from "./harness.js";

/** A scenario's figures, by name. */
export type Figures = Record<string, number>;

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

/**
 * One contender's rounds as one set of figures: each figure's median over the rounds that have it
 * (latency is measured in the first only), the peak memory's maximum, and each of `keys`, round by
 * round, as `rounds_<key>`. The headline figures' rounds are kept so that a ratio to a target can
 * be worked out again unrounded: the ratios are rounded to two places round by round, and a 0.30
 * may be 0.295.
 */
export function combineRounds(rounds: readonly Figures[], ...keys: string[]): Record<string, number | number[]> {
  const names = [...new Set(rounds.flatMap((r) => Object.keys(r)))];
  const combined: Record<string, number | number[]> = {};
  for (const name of names) {
    const values = rounds.map((r) => r[name]).filter((v): v is number => v !== undefined);
    combined[name] = name.endsWith("_rss_mb") ? Math.max(...values) : median(values);
  }
  if (rounds.length < 2) return combined;
  // A key no round measured (a scenario's figure left out of this run) gets no rounds of zeros.
  for (const key of keys.filter((k) => names.includes(k))) combined[`rounds_${key}`] = rounds.map((r) => r[key] ?? 0);
  return combined;
}

/** The median over the rounds of one figure. */
export const medianOf = (rounds: readonly Figures[], key: string) => median(rounds.map((r) => r[key] ?? 0));

/**
 * One contender's figure over another's, round by round: each pairs figures taken within a minute of
 * each other. Undefined unless both ran in every round.
 */
export function ratios(
  ours: readonly Figures[],
  ourKey: string,
  theirs: readonly Figures[],
  theirKey: string,
): { median: number; rounds: number[] } | undefined {
  if (ours.length === 0 || ours.length !== theirs.length) return undefined;
  const each = ours.map((o, i) => round((o[ourKey] ?? 0) / (theirs[i]?.[theirKey] ?? Number.NaN), 2));
  // Rounded as its rounds are: the mean of two middle ratios has binary-fraction tails (0.8300000000000001).
  return { median: round(median(each), 2), rounds: each };
}
