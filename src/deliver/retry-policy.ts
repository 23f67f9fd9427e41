/**
 * The retry-or-give-up decision, in one place. From the source document
 * (docs/spec/webhook-notifications.txt, "Webhook Action Attempts") and PRODUCT.md:
 *  - HTTP 2xx: success ("HTTP 200"; 201/202/204 are success too);
 *  - HTTP 5xx, timeout, connection failure: temporary, retried — at most `maxAttempts` in all;
 *  - HTTP 408 and 429: temporary too, retried within the same cap, honouring Retry-After (clamped);
 *  - other HTTP 4xx: a configuration error, failed at once;
 *  - HTTP 3xx: redirects are never followed, so the request did not arrive: failed at once;
 *  - SMTP (RFC 5321 §4.2.1): 2xx accepted, 4xx transient (retried), 5xx permanent (failed at once);
 *  - a message whose recipient is on the account's stop list: suppressed, final, not a failure.
 */
import type { Backoff } from "./backoff.js";
import type { AttemptOutcome } from "./outcome.js";

/** Classifies an HTTP answer (webhooks, the SMS provider's API). */
export function httpOutcome(status: number, retryAfterMs?: number): AttemptOutcome {
  if (status >= 200 && status < 300) return { kind: "success" };
  if (status === 408 || status === 429) return { kind: "temporary", message: `HTTP ${status}`, ...(retryAfterMs !== undefined && { retryAfterMs }) };
  if (status >= 500 && status < 600) return { kind: "temporary", message: `HTTP ${status}` };
  if (status >= 300 && status < 400) return { kind: "permanent", message: `HTTP ${status}: redirects are not followed; point the action at the final URL` };
  if (status >= 400 && status < 500) return { kind: "permanent", message: `HTTP ${status}: the receiver rejected the request; not retried` };
  return { kind: "permanent", message: `HTTP ${status}: unexpected status` };
}

/** Classifies an SMTP reply code. */
export function smtpOutcome(code: number, reply: string): AttemptOutcome {
  if (code >= 200 && code < 300) return { kind: "success" };
  if (code >= 400 && code < 500) return { kind: "temporary", message: `SMTP ${reply}` };
  return { kind: "permanent", message: `SMTP ${reply}: the mail server refused the message; not retried` };
}

export type Decision =
  | { state: "succeeded" }
  | { state: "retrying"; delayMs: number }
  | { state: "failed"; reason: string }
  | { state: "suppressed"; reason: string };

export interface RetryPolicy {
  maxAttempts: number;
  backoff: Backoff;
  maxRetryAfterMs: number;
}

/** `attemptNumber` is this attempt's place in its series, from 1. */
export function decide(outcome: AttemptOutcome, attemptNumber: number, policy: RetryPolicy): Decision {
  switch (outcome.kind) {
    case "success":
      return { state: "succeeded" };
    case "permanent":
      return { state: "failed", reason: outcome.message };
    case "suppressed":
      return { state: "suppressed", reason: outcome.message };
    case "temporary":
      if (attemptNumber >= policy.maxAttempts) return { state: "failed", reason: `${outcome.message}; gave up after ${attemptNumber} attempts` };
      return {
        state: "retrying",
        delayMs: outcome.retryAfterMs === undefined ? policy.backoff(attemptNumber) : Math.min(outcome.retryAfterMs, policy.maxRetryAfterMs),
      };
  }
}
