/**
 * What one attempt came to. A 5xx, a timeout or a refused connection are expected outcomes, not
 * errors: senders return them as data and never throw for them.
 */
export type AttemptOutcome =
  /** The receiver answered. `retryAfterMs` is its Retry-After header, when it sent one. */
  | { kind: "response"; status: number; retryAfterMs?: number }
  /** The attempt ran out of time (connect or total timeout). */
  | { kind: "timeout"; message: string }
  /** Connection refused/reset, DNS failure, TLS failure: the receiver may be back later. */
  | { kind: "network"; message: string }
  /** The attempt can never succeed as configured (blocked address, provider not configured, 4xx-like provider reply). */
  | { kind: "refused"; message: string };

/** Parses a Retry-After header: delay-seconds or an HTTP date (RFC 9110 §10.2.3). */
export function parseRetryAfter(value: string | undefined, now: number): number | undefined {
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
