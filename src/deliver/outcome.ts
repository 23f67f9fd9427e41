/**
 * What one attempt came to, in the provider's own terms already classified: a 5xx, a timeout, a
 * refused connection are expected outcomes, not errors — senders return them as data and never
 * throw for them. The classification rules live in retry-policy.ts.
 */
export type AttemptOutcome =
  /** The receiver or provider accepted it. */
  | { kind: "success" }
  /** It may work later: 5xx, 408/429, timeouts, network failures, SMTP 4xx. */
  | { kind: "temporary"; message: string; retryAfterMs?: number }
  /** It cannot work as configured: other 4xx, 3xx, blocked address, no provider, SMTP 5xx, a recipient that renders empty or invalid. */
  | { kind: "permanent"; message: string }
  /** Not sent, by the account's own wish: the message's recipient is on its stop list. Neither success nor failure. */
  | { kind: "suppressed"; message: string };

/** Parses a Retry-After header: delay-seconds or an HTTP date (RFC 9110 §10.2.3). */
export function parseRetryAfter(value: string | undefined, now: number): number | undefined {
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
