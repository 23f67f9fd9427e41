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

it("writes the time as 10 base32 characters, most significant first, and the randomness as 16", () => {
  const at = (t: number) => createIdGenerator(() => t)("evt");
  expect(at(0).slice(4, 14)).toBe("0000000000");
  expect(at(32 ** 10 - 1).slice(4, 14)).toBe("ZZZZZZZZZZ");
  // Crockford's alphabet (no I, L, O or U), worked out with BigInt arithmetic.
  expect(at(1_700_000_000_000).slice(4, 14)).toBe("01HF7YAT00");
  // One millisecond later, only the time part's last character moves; the next id in the same
  // millisecond differs from it in the randomness only.
  let t = 1_700_000_000_000;
  const next = createIdGenerator(() => t);
  const [a, b] = [next("ins"), next("ins")];
  t++;
  const c = next("ins");
  expect(b.slice(0, 14)).toBe(a.slice(0, 14));
  expect(c.slice(0, 14)).toBe("ins_01HF7YAT01");
  expect(b.slice(14) > a.slice(14)).toBe(true);
});
