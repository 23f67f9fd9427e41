/**
 * Per-account rate limits: a token bucket per account and class of call (ingest, management). A
 * bucket holds up to two seconds' worth of requests, so short bursts pass and sustained excess is
 * answered 429 with Retry-After. In memory, per process: each process limits what it serves.
 */
export type RateClass = "ingest" | "api";

export interface RateLimiter {
  /** Takes `cost` tokens; returns the seconds to wait when there are not enough. */
  take(accountId: string, rateClass: RateClass, cost?: number): { ok: true } | { ok: false; retryAfterSeconds: number };
}

export function createRateLimiter(perSecond: Record<RateClass, number>, now: () => number = Date.now): RateLimiter {
  const buckets = new Map<string, { tokens: number; at: number }>();
  return {
    take(accountId, rateClass, cost = 1) {
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
      // A request costlier than the whole bucket (a huge batch on a tiny limit) is let through once full.
      const needed = Math.min(cost, capacity);
      if (bucket.tokens >= needed) {
        bucket.tokens -= needed;
        return { ok: true };
      }
      return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil((needed - bucket.tokens) / rate)) };
    },
  };
}
