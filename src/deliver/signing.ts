/**
 * Standard Webhooks signatures (https://www.standardwebhooks.com/): `webhook-id`,
 * `webhook-timestamp`, `webhook-signature: v1,<base64 HMAC-SHA256>`. After a rotation, each
 * secret still within its 24 hours signs too (actions/signing-secrets.ts): one signature per
 * secret, space-separated, as the spec allows, so receivers that still hold an old secret verify.
 *
 * Signed with node:crypto, exactly as the `standardwebhooks` package signs (its verifier checks
 * ours in the tests): its pure-JS SHA-256 costs several times node:crypto's native HMAC, on every
 * delivery (docs/PERFORMANCE.md, item 17).
 */
import { createHmac } from "node:crypto";
import { memoize } from "../memo.js";

/** Secrets are `whsec_` + base64 of the key (actions.ts); decoded once per secret. */
const keyOf = memoize((secret) => Buffer.from(secret.startsWith("whsec_") ? secret.slice("whsec_".length) : secret, "base64"), 10_000);

export function signatureHeaders({ id, payload, now }: { id: string; payload: string; now: number }, secrets: readonly string[]): Record<string, string> {
  const timestamp = String(Math.floor(now / 1000));
  const signed = `${id}.${timestamp}.${payload}`;
  return {
    "webhook-id": id,
    "webhook-timestamp": timestamp,
    "webhook-signature": secrets.map((s) => `v1,${createHmac("sha256", keyOf(s)).update(signed).digest("base64")}`).join(" "),
  };
}
