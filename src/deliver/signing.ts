/**
 * Standard Webhooks signatures (https://www.standardwebhooks.com/): `webhook-id`,
 * `webhook-timestamp`, `webhook-signature: v1,<base64 HMAC-SHA256>`. During a secret rotation's
 * grace period both signatures are sent, space-separated, as the spec allows, so receivers that
 * still hold the old secret keep verifying.
 */
import { Webhook } from "standardwebhooks";

const signers = new Map<string, Webhook>();

function signer(secret: string): Webhook {
  let w = signers.get(secret);
  if (!w) {
    if (signers.size > 10_000) signers.clear();
    w = new Webhook(secret);
    signers.set(secret, w);
  }
  return w;
}

export function signatureHeaders({ id, payload, now }: { id: string; payload: string; now: number }, secrets: readonly string[]): Record<string, string> {
  const timestamp = new Date(now);
  return {
    "webhook-id": id,
    "webhook-timestamp": String(Math.floor(now / 1000)),
    "webhook-signature": secrets.map((s) => signer(s).sign(id, timestamp, payload)).join(" "),
  };
}
