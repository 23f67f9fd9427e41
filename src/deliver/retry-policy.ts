/**
 * The retry-or-give-up decision, in one place. From the source document
 * (docs/spec/webhook-notifications.txt, "Webhook Action Attempts") and PRODUCT.md:
 *  - 2xx: success ("HTTP 200"; 201/202/204 are success too);
 *  - 5xx, timeout, connection failure: temporary, retried — at most `maxAttempts` attempts in all;
 *  - 408 and 429: temporary too, retried within the same cap, honouring Retry-After (clamped);
 *  - other 4xx: a configuration error, failed at once;
 *  - 3xx: redirects are never followed, so the request did not arrive: failed at once;
 *  - refused (blocked address, provider not configured): can never succeed as is: failed at once.
 */
import type { Backoff } from "./backoff.js";
import type { AttemptOutcome } from "./outcome.js";

export type Decision = { state: "succeeded" } | { state: "retrying"; delayMs: number } | { state: "failed"; reason: string };

export interface RetryPolicy {
  maxAttempts: number;
  backoff: Backoff;
  maxRetryAfterMs: number;
}

function retry(attemptNumber: number, policy: RetryPolicy, reason: string, delayMs?: number): Decision {
  if (attemptNumber >= policy.maxAttempts) return { state: "failed", reason: `${reason}; gave up after ${attemptNumber} attempts` };
  return { state: "retrying", delayMs: delayMs ?? policy.backoff(attemptNumber) };
}

/** `attemptNumber` is this attempt's place in its series, from 1. */
export function decide(outcome: AttemptOutcome, attemptNumber: number, policy: RetryPolicy): Decision {
  switch (outcome.kind) {
    case "timeout":
    case "network":
      return retry(attemptNumber, policy, outcome.message);
    case "refused":
      return { state: "failed", reason: outcome.message };
    case "response": {
      const { status } = outcome;
      if (status >= 200 && status < 300) return { state: "succeeded" };
      if (status === 408 || status === 429) {
        const delay = outcome.retryAfterMs === undefined ? undefined : Math.min(outcome.retryAfterMs, policy.maxRetryAfterMs);
        return retry(attemptNumber, policy, `HTTP ${status}`, delay);
      }
      if (status >= 500 && status < 600) return retry(attemptNumber, policy, `HTTP ${status}`);
      if (status >= 300 && status < 400) return { state: "failed", reason: `HTTP ${status}: redirects are not followed; point the action at the final URL` };
      if (status >= 400 && status < 500) return { state: "failed", reason: `HTTP ${status}: the receiver rejected the request; not retried` };
      return { state: "failed", reason: `HTTP ${status}: unexpected status` };
    }
  }
}
