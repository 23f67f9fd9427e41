import { expect, it } from "vitest";
import { memoize } from "./memo.js";

it("computes each key once, starts over when full, and keeps nothing for a key that throws", () => {
  const calls: string[] = [];
  const length = memoize((key) => {
    calls.push(key);
    if (key === "bad") throw new Error("no");
    return key.length;
  }, 2);
  expect([length("a"), length("bb"), length("a")]).toEqual([1, 2, 1]);
  expect(calls).toEqual(["a", "bb"]);
  // Full: a third key starts over, so "a" is computed again.
  expect(length("ccc")).toBe(3);
  expect(length("a")).toBe(1);
  expect(calls).toEqual(["a", "bb", "ccc", "a"]);
  expect(() => length("bad")).toThrow("no");
  expect(() => length("bad")).toThrow("no");
  expect(calls.filter((k) => k === "bad")).toHaveLength(2);
});
