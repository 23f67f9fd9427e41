import { expect, it } from "vitest";
import { createIdGenerator } from "./ids.js";

it("generates prefixed ids that sort in creation order, even within one millisecond", () => {
  let t = 1_700_000_000_000;
  const next = createIdGenerator(() => t);
  const ids: string[] = [];
  for (let i = 0; i < 1000; i++) {
    if (i % 100 === 0) t++;
    ids.push(next("ins"));
  }
  expect(new Set(ids).size).toBe(1000);
  expect([...ids].sort()).toEqual(ids);
  expect(ids[0]).toMatch(/^ins_[0-9A-Z]{26}$/);
});

it("draws fresh randomness for every new millisecond, across its blocks of random bytes", () => {
  let t = 1_700_000_000_000;
  const next = createIdGenerator(() => t++);
  // 2,000 draws of 10 bytes cross several 4 KiB blocks.
  const randomParts = Array.from({ length: 2_000 }, () => next("evt").slice(-16));
  expect(new Set(randomParts).size).toBe(2_000);
});
