/**
 * Per-account rate limits: a token bucket per account and class of call (ingest, management),
 * holding up to two seconds' worth. A call is admitted while the bucket has a token, and pays its
 * cost (one, or one per event of a batch), going into debt if it must: a big batch passes, and the
 * account's next calls wait until the debt is paid. Refused calls get 429 with Retry-After.
 * In memory, per process: each process limits what it serves.
 */
export type RateClass = "ingest" | "api";

export interface RateLimiter {
  /** Admits a call and charges `cost` tokens (0: only check); otherwise says how long to wait. */
  take(accountId: string, rateClass: RateClass, cost: number): { ok: true } | { ok: false; retryAfterSeconds: number };
}

export function createRateLimiter(perSecond: Record<RateClass, number>, now: () => number = Date.now): RateLimiter {
  const buckets = new Map<string, { tokens: number; at: number }>();
  return {
    take(accountId, rateClass, cost) {
      const rate = perSecond[rateClass];
      if (rate <= 0) return { ok: true }; // 0 = unlimited
      const capacity = rate * 2;
      const key = `${rateClass}:${accountId}`;
      const t = now();
      const bucket = buckets.get(key) ?? { tokens: capacity, at: t };
      bucket.tokens = Math.min(capacity, bucket.tokens + ((t - bucket.at) / 1000) * rate);
      bucket.at = t;
      if (buckets.size > 100_000) buckets.clear(); // bounded memory; a clear only forgives
      buckets.set(key, bucket);
      if (bucket.tokens < 1) return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - bucket.tokens) / rate)) };
      bucket.tokens -= cost;
      return { ok: true };
    },
  };
}
