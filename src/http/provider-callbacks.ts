/**
 * Provider callbacks: the SMS provider's status callback (Twilio's documented form) marks an
 * instance delivered, or failed after all. Not authenticated by an API key but by the provider's
 * signature: X-Twilio-Signature = base64(HMAC-SHA1(auth token, callback URL + each POST parameter's
 * name and value, sorted by name)) — https://www.twilio.com/docs/usage/security#validating-requests
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import type { FastifyPluginAsync } from "fastify";
import type { Committer } from "../db/committer.js";
import { statusCallbackUrl } from "../deliver/sms.js";
import { HooklineError, NotFoundError } from "../errors.js";
import { applyProviderStatus } from "../instances/instances.js";

export function twilioSignature(authToken: string, url: string, params: Record<string, string>): string {
  const data = Object.keys(params)
    .sort()
    .reduce((acc, key) => acc + key + params[key], url);
  return createHmac("sha1", authToken).update(data).digest("base64");
}

function sameSignature(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

const DELIVERED = new Set(["delivered", "read"]);
const UNDELIVERED = new Set(["undelivered", "failed"]);

export function providerCallbacks(deps: {
  committer: Committer;
  twilio: { authToken: string } | undefined;
  publicUrl: string | undefined;
  now: () => number;
}): FastifyPluginAsync {
  return async (app) => {
    app.addContentTypeParser("application/x-www-form-urlencoded", { parseAs: "string" }, (_request, body, done) => {
      done(null, Object.fromEntries(new URLSearchParams(body as string)));
    });

    app.post<{ Params: { id: string }; Body: Record<string, string> }>("/api/v1/callbacks/twilio/:id", async (request, reply) => {
      const { twilio, publicUrl } = deps;
      if (!twilio || !publicUrl) throw new NotFoundError("callback", request.params.id);
      const params = request.body ?? {};
      const expected = twilioSignature(twilio.authToken, statusCallbackUrl(publicUrl, request.params.id), params);
      const given = request.headers["x-twilio-signature"];
      if (typeof given !== "string" || !sameSignature(given, expected)) throw new HooklineError(403, "forbidden", "invalid X-Twilio-Signature");

      const status = params.MessageStatus ?? "";
      const verdict = DELIVERED.has(status)
        ? ({ delivered: true } as const)
        : UNDELIVERED.has(status)
          ? ({ delivered: false, error: `the SMS provider reported the message ${status}${params.ErrorCode ? ` (error ${params.ErrorCode})` : ""}` } as const)
          : undefined;
      // Intermediate statuses (queued, sending, sent…) change nothing.
      if (verdict) {
        const found = await deps.committer.run((trx) => applyProviderStatus(trx, request.params.id, verdict, deps.now()));
        if (!found) throw new NotFoundError("instance", request.params.id);
      }
      return reply.code(204).send();
    });
  };
}
