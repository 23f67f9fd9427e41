/**
 * An action's signing secrets: the current one, and each one rotated away, which keeps signing for
 * ROTATION_GRACE_MS after its rotation so receivers can switch over without dropping deliveries.
 * Every live secret signs each request (signing.ts). Kept apart from actions.ts (validation, the
 * API) so the webhook thread loads only this.
 */
import { memoize } from "../memo.js";
import type { Cipher } from "../secrets/cipher.js";

/** How long a secret rotated away keeps signing. */
export const ROTATION_GRACE_MS = 24 * 3600_000;

/**
 * Secrets rotated away that may still sign at once: each adds a signature to every request. Svix's
 * bound (svix-server, `ExpiringSigningKeys::MAX_OLD_KEYS`); a rotation beyond it is refused.
 */
export const MAX_PREVIOUS_SECRETS = 5;

/** A secret rotated away: sealed as stored, signing until `until` (epoch ms). */
export interface PreviousSecret {
  secret: string;
  until: number;
}

/** actions.previous_secrets: a JSON list, oldest first; parsed once per distinct value. */
const parsePrevious = memoize((stored): readonly PreviousSecret[] => JSON.parse(stored), 10_000);

export const NO_PREVIOUS_SECRETS = "[]";

/** The secrets rotated away that still sign at `now`, oldest first. */
export function livePrevious(stored: string, now: number): PreviousSecret[] {
  return parsePrevious(stored).filter((p) => p.until > now);
}

/** What actions.previous_secrets holds after `current` (sealed) is rotated away at `now`. */
export function rotatedAway(stored: string, current: string, now: number): string {
  return JSON.stringify([...livePrevious(stored, now), { secret: current, until: now + ROTATION_GRACE_MS }]);
}

/** The secrets a request made at `now` is signed with, opened: the current one, then each previous one still live. */
export function signingSecrets({ secret, previousSecrets }: { secret: string; previousSecrets: string }, now: number, cipher: Cipher): string[] {
  const secrets = [cipher.open(secret)];
  for (const previous of livePrevious(previousSecrets, now)) secrets.push(cipher.open(previous.secret));
  return secrets;
}
