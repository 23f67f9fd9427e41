import { expect, it } from "vitest";
import { createRateLimiter } from "./rate-limit.js";

it("lets a burst of two seconds' worth through, then asks to retry after the refill time", () => {
  let t = 0;
  const limiter = createRateLimiter({ ingest: 5, api: 1 }, () => t);
  for (let i = 0; i < 10; i++) expect(limiter.take("acc_a", "ingest")).toEqual({ ok: true });
  expect(limiter.take("acc_a", "ingest")).toEqual({ ok: false, retryAfterSeconds: 1 });
  t += 1000;
  for (let i = 0; i < 5; i++) expect(limiter.take("acc_a", "ingest").ok).toBe(true);
  expect(limiter.take("acc_a", "ingest").ok).toBe(false);
});

it("keeps accounts and classes apart, charges batches by size, and treats 0 as unlimited", () => {
  const t = 0;
  const limiter = createRateLimiter({ ingest: 10, api: 0 }, () => t);
  expect(limiter.take("acc_a", "ingest", 20).ok).toBe(true);
  expect(limiter.take("acc_a", "ingest", 1)).toEqual({ ok: false, retryAfterSeconds: 1 });
  expect(limiter.take("acc_b", "ingest", 5).ok).toBe(true);
  for (let i = 0; i < 1000; i++) expect(limiter.take("acc_a", "api").ok).toBe(true);
  expect(limiter.take("acc_c", "ingest", 500)).toEqual({ ok: true }); // bigger than the bucket: allowed once full
  expect(limiter.take("acc_c", "ingest", 500)).toEqual({ ok: false, retryAfterSeconds: 2 });
});
