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
