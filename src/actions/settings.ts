/**
 * An action's settings as stored: JSON, with its custom headers sealed like other secrets. Kept
 * apart from actions.ts (validation, the API) so the webhook thread loads only this.
 */
import type { Cipher } from "../secrets/cipher.js";

/** What is shown (in the API, in the attempt log) in place of a secret value. */
export const REDACTED = "[redacted]";

/** Settings with custom headers in the clear (as validated, and as the sender uses them). */
export type Settings = { url?: string; to?: string | string[]; subject?: string; body?: string; headers?: Record<string, string> };
/** As stored: custom headers sealed, like other secrets. */
type StoredSettings = Omit<Settings, "headers"> & { headers?: string };

/** An action's settings with its custom headers opened. */
export function openSettings(stored: string, cipher: Cipher): Settings {
  const { headers, ...rest } = JSON.parse(stored) as StoredSettings;
  return headers ? { ...rest, headers: JSON.parse(cipher.open(headers)) as Record<string, string> } : rest;
}

export function sealSettings({ headers, ...rest }: Settings, cipher: Cipher): string {
  const stored: StoredSettings = headers && Object.keys(headers).length > 0 ? { ...rest, headers: cipher.seal(JSON.stringify(headers)) } : rest;
  return JSON.stringify(stored);
}
