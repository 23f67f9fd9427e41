import { describe, expect, it } from "vitest";
import { combineRounds, type Figures, median, medianOf, ratios } from "./rounds.js";

describe("bench rounds", () => {
  it("a median is the middle value, or the mean of the middle two", () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([0.25, 0.75])).toBe(0.5);
  });

  it("combines a contender's rounds: medians, the peak memory's maximum, and the rounds of the headline figures", () => {
    const rounds: Figures[] = [
      { delivered_per_s: 4000, p99_ms_at_1k: 7, peak_rss_mb: 200 },
      { delivered_per_s: 5000, peak_rss_mb: 210 },
      { delivered_per_s: 4500, peak_rss_mb: 205 },
    ];
    expect(combineRounds(rounds, "delivered_per_s")).toEqual({
      delivered_per_s: 4500,
      p99_ms_at_1k: 7, // measured in the first round only
      peak_rss_mb: 210,
      rounds_delivered_per_s: [4000, 5000, 4500],
    });
    expect(medianOf(rounds, "delivered_per_s")).toBe(4500);
    // Several figures' rounds; a key that no round has (p99_ms_at_1k here) gets none.
    const batches: Figures[] = [
      { per_s: 10, batch_per_s: 30 },
      { per_s: 20, batch_per_s: 40 },
    ];
    expect(combineRounds(batches, "per_s", "batch_per_s", "p99_ms_at_1k")).toEqual({
      per_s: 15,
      batch_per_s: 35,
      rounds_per_s: [10, 20],
      rounds_batch_per_s: [30, 40],
    });
    expect(combineRounds([{ per_s: 1 }], "per_s")).toEqual({ per_s: 1 });
  });

  it("ratios pair each round's figures, and need both contenders in every round", () => {
    const ours = [{ d: 4000 }, { d: 6000 }, { d: 5000 }];
    const theirs = [{ p: 20000 }, { p: 20000 }, { p: 10000 }];
    expect(ratios(ours, "d", theirs, "p")).toEqual({ median: 0.3, rounds: [0.2, 0.3, 0.5] });
    expect(ratios(ours, "d", theirs.slice(1), "p")).toBeUndefined();
    expect(ratios([], "d", [], "p")).toBeUndefined();
    // An even number of rounds: the mean of the middle two, rounded as the rounds are.
    expect(ratios([{ d: 88 }, { d: 78 }], "d", [{ p: 100 }, { p: 100 }], "p")?.median).toBe(0.83);
  });
});
