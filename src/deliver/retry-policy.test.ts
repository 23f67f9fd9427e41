import { describe, expect, it } from "vitest";
import { scheduledBackoff } from "./backoff.js";
import type { AttemptOutcome } from "./outcome.js";
import { decide, type RetryPolicy } from "./retry-policy.js";

const policy: RetryPolicy = { maxAttempts: 5, backoff: scheduledBackoff([30_000, 120_000, 600_000, 3_600_000], 0), maxRetryAfterMs: 3_600_000 };
const response = (status: number, retryAfterMs?: number): AttemptOutcome => ({ kind: "response", status, ...(retryAfterMs !== undefined && { retryAfterMs }) });

describe("retry decision", () => {
  it.each([200, 201, 202, 204, 299])("HTTP %i is success", (status) => {
    expect(decide(response(status), 1, policy)).toEqual({ state: "succeeded" });
  });

  it.each([500, 502, 503, 504, 599])("HTTP %i is retried with the schedule's delay", (status) => {
    expect(decide(response(status), 1, policy)).toEqual({ state: "retrying", delayMs: 30_000 });
    expect(decide(response(status), 3, policy)).toEqual({ state: "retrying", delayMs: 600_000 });
  });

  it.each([400, 401, 403, 404, 410, 422])("HTTP %i fails at once, never retried", (status) => {
    expect(decide(response(status), 1, policy).state).toBe("failed");
  });

  it.each([301, 302, 307, 308])("HTTP %i (redirect) fails at once and says redirects are not followed", (status) => {
    const decision = decide(response(status), 1, policy);
    expect(decision).toMatchObject({ state: "failed" });
    expect(decision.state === "failed" && decision.reason).toContain("redirects are not followed");
  });

  it.each([408, 429])("HTTP %i is temporary: retried, honouring Retry-After", (status) => {
    expect(decide(response(status, 5_000), 1, policy)).toEqual({ state: "retrying", delayMs: 5_000 });
    expect(decide(response(status), 1, policy)).toEqual({ state: "retrying", delayMs: 30_000 });
  });

  it("clamps a huge Retry-After to the configured maximum", () => {
    expect(decide(response(429, 86_400_000), 1, policy)).toEqual({ state: "retrying", delayMs: 3_600_000 });
  });

  it("retries timeouts and network failures", () => {
    expect(decide({ kind: "timeout", message: "t" }, 2, policy)).toEqual({ state: "retrying", delayMs: 120_000 });
    expect(decide({ kind: "network", message: "ECONNREFUSED" }, 4, policy)).toEqual({ state: "retrying", delayMs: 3_600_000 });
  });

  it("gives up after the 5th attempt in all, whatever the temporary cause", () => {
    for (const outcome of [response(503), response(429, 1000), { kind: "timeout", message: "t" } as const, { kind: "network", message: "n" } as const]) {
      const decision = decide(outcome, 5, policy);
      expect(decision.state).toBe("failed");
      expect(decision.state === "failed" && decision.reason).toContain("gave up after 5 attempts");
    }
  });

  it("fails refused attempts (blocked address, provider not configured) without retrying", () => {
    expect(decide({ kind: "refused", message: "blocked" }, 1, policy)).toEqual({ state: "failed", reason: "blocked" });
  });
});

describe("backoff", () => {
  it("follows the schedule, the last entry repeating", () => {
    const backoff = scheduledBackoff([10, 20, 30], 0);
    expect([1, 2, 3, 4].map(backoff)).toEqual([10, 20, 30, 30]);
  });

  it("spreads delays by ±jitter", () => {
    expect(scheduledBackoff([1000], 0.2, () => 0)(1)).toBe(800);
    expect(scheduledBackoff([1000], 0.2, () => 1)(1)).toBe(1200);
    expect(scheduledBackoff([1000], 0.2, () => 0.5)(1)).toBe(1000);
  });
});
