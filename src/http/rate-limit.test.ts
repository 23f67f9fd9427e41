import { expect, it } from "vitest";
import { createRateLimiter } from "./rate-limit.js";

it("lets a burst of two seconds' worth through, then asks to retry after the refill time", () => {
  let t = 0;
  const limiter = createRateLimiter({ ingest: 5, api: 1 }, () => t);
  for (let i = 0; i < 10; i++) expect(limiter.take("acc_a", "ingest", 1)).toEqual({ ok: true });
  expect(limiter.take("acc_a", "ingest", 1)).toEqual({ ok: false, retryAfterSeconds: 1 });
  t += 1000;
  for (let i = 0; i < 5; i++) expect(limiter.take("acc_a", "ingest", 1).ok).toBe(true);
  expect(limiter.take("acc_a", "ingest", 1).ok).toBe(false);
});

it("admits a batch larger than the bucket and makes the account wait off the debt", () => {
  let t = 0;
  const limiter = createRateLimiter({ ingest: 10, api: 10 }, () => t);
  expect(limiter.take("acc_a", "ingest", 0)).toEqual({ ok: true }); // a check charges nothing
  expect(limiter.take("acc_a", "ingest", 100)).toEqual({ ok: true });
  expect(limiter.take("acc_a", "ingest", 1)).toEqual({ ok: false, retryAfterSeconds: 9 }); // 20 - 100 = -80 tokens: 8.1 s
  t += 9000;
  expect(limiter.take("acc_a", "ingest", 1)).toEqual({ ok: true });
});

it("keeps accounts and classes apart, and treats 0 as unlimited", () => {
  const limiter = createRateLimiter({ ingest: 1, api: 0 }, () => 0);
  expect(limiter.take("acc_a", "ingest", 5).ok).toBe(true);
  expect(limiter.take("acc_a", "ingest", 1).ok).toBe(false);
  expect(limiter.take("acc_b", "ingest", 1).ok).toBe(true);
  for (let i = 0; i < 1000; i++) expect(limiter.take("acc_a", "api", 1).ok).toBe(true);
});
