import { describe, expect, it } from "vitest";
import { scheduledBackoff } from "./backoff.js";
import { decide, httpOutcome, type RetryPolicy, smtpOutcome } from "./retry-policy.js";

const policy: RetryPolicy = { maxAttempts: 5, backoff: scheduledBackoff([30_000, 120_000, 600_000, 3_600_000], 0), maxRetryAfterMs: 3_600_000 };
/** The decision for an HTTP answer on the given attempt of a series. */
const http = (status: number, attempt = 1, retryAfterMs?: number) => decide(httpOutcome(status, retryAfterMs), attempt, policy);

describe("retry decision for HTTP answers", () => {
  it.each([200, 201, 202, 204, 299])("HTTP %i is success", (status) => {
    expect(http(status)).toEqual({ state: "succeeded" });
  });

  it.each([500, 502, 503, 504, 599])("HTTP %i is retried with the schedule's delay", (status) => {
    expect(http(status, 1)).toEqual({ state: "retrying", delayMs: 30_000 });
    expect(http(status, 3)).toEqual({ state: "retrying", delayMs: 600_000 });
  });

  it.each([400, 401, 403, 404, 410, 422])("HTTP %i fails at once, never retried", (status) => {
    expect(http(status).state).toBe("failed");
  });

  it.each([301, 302, 307, 308])("HTTP %i (redirect) fails at once and says redirects are not followed", (status) => {
    const decision = http(status);
    expect(decision).toMatchObject({ state: "failed" });
    expect(decision.state === "failed" && decision.reason).toContain("redirects are not followed");
  });

  it.each([408, 429])("HTTP %i is temporary: retried, honouring Retry-After", (status) => {
    expect(http(status, 1, 5_000)).toEqual({ state: "retrying", delayMs: 5_000 });
    expect(http(status, 1)).toEqual({ state: "retrying", delayMs: 30_000 });
  });

  it("clamps a huge Retry-After to the configured maximum", () => {
    expect(http(429, 1, 86_400_000)).toEqual({ state: "retrying", delayMs: 3_600_000 });
  });

  it.each([100, 600, 999])("an unexpected status %i fails", (status) => {
    expect(http(status).state).toBe("failed");
  });
});

describe("retry decision for other outcomes", () => {
  it("retries timeouts and network failures on the schedule", () => {
    expect(decide({ kind: "temporary", message: "timed out" }, 2, policy)).toEqual({ state: "retrying", delayMs: 120_000 });
    expect(decide({ kind: "temporary", message: "ECONNREFUSED" }, 4, policy)).toEqual({ state: "retrying", delayMs: 3_600_000 });
  });

  it("gives up after the 5th attempt in all, whatever the temporary cause", () => {
    for (const outcome of [httpOutcome(503), httpOutcome(429, 1000), { kind: "temporary", message: "timed out" } as const, smtpOutcome(451, "451 try later")]) {
      const decision = decide(outcome, 5, policy);
      expect(decision.state).toBe("failed");
      expect(decision.state === "failed" && decision.reason).toContain("gave up after 5 attempts");
    }
  });

  it("fails permanent outcomes (blocked address, provider not configured) without retrying", () => {
    expect(decide({ kind: "permanent", message: "blocked" }, 1, policy)).toEqual({ state: "failed", reason: "blocked" });
  });

  it("reads SMTP replies the SMTP way: 2xx accepted, 4xx retried, 5xx failed at once", () => {
    expect(decide(smtpOutcome(250, "250 OK"), 1, policy)).toEqual({ state: "succeeded" });
    expect(decide(smtpOutcome(451, "451 4.7.1 try again later"), 1, policy)).toEqual({ state: "retrying", delayMs: 30_000 });
    expect(decide(smtpOutcome(550, "550 5.1.1 no such user"), 1, policy)).toMatchObject({ state: "failed", reason: expect.stringContaining("550 5.1.1") });
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

describe("retry decision for a suppressed message", () => {
  it("ends the instance suppressed with its reason, on any attempt, never retried", () => {
    const outcome = { kind: "suppressed", message: "+15552013344 is on the stop list (since 2026-12-07T21:00:00.000Z)" } as const;
    expect(decide(outcome, 1, policy)).toEqual({ state: "suppressed", reason: outcome.message });
    expect(decide(outcome, policy.maxAttempts, policy)).toEqual({ state: "suppressed", reason: outcome.message });
  });
});
