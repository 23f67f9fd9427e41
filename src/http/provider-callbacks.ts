/**
 * Provider callbacks: the SMS provider's status callback (Twilio's documented form) marks an
 * instance delivered, or failed after all. Not authenticated by an API key but by the provider's
 * signature: X-Twilio-Signature = base64(HMAC-SHA1(auth token, callback URL + each POST parameter's
 * name and value, sorted by name)) — https://www.twilio.com/docs/usage/security#validating-requests
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import type { FastifyPluginAsync } from "fastify";
import type { Committer } from "../db/committer.js";
import { statusCallbackUrl } from "../deliver/sms.js";
import { HooklineError, NotFoundError, UnavailableError } from "../errors.js";
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

/**
 * The provider can call back before Hookline has committed the attempt that sent the message (the
 * answer to the send and the callback race): the callback then waits for the record instead of
 * dropping its verdict. An attempt in flight is recorded at most the request timeout after it began,
 * so `recordWaitMs` is that plus a second for its commit, capped so that the answer reaches Twilio
 * within the 15 s it waits. An instance still leased after that was sent by a process that died
 * before recording it: the callback is answered 503, and the lease's expiry retries the send.
 */
export function recordWaitFor(requestTimeoutMs: number): number {
  return Math.min(requestTimeoutMs + 1_000, 10_000);
}
const FIRST_RECHECK_MS = 10;
const LONGEST_RECHECK_MS = 250;

const DELIVERED = new Set(["delivered", "read"]);
const UNDELIVERED = new Set(["undelivered", "failed"]);

export function providerCallbacks(deps: {
  committer: Committer;
  twilio: { authToken: string } | undefined;
  publicUrl: string | undefined;
  now: () => number;
  /** See recordWaitFor. */
  recordWaitMs: number;
}): FastifyPluginAsync {
  return async (app) => {
    app.addContentTypeParser<string>("application/x-www-form-urlencoded", { parseAs: "string" }, (_request, body, done) => {
      done(null, Object.fromEntries(new URLSearchParams(body)));
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
        const giveUpAt = Date.now() + deps.recordWaitMs;
        for (let recheck = FIRST_RECHECK_MS; ; recheck = Math.min(2 * recheck, LONGEST_RECHECK_MS)) {
          const outcome = await deps.committer.run((trx) => applyProviderStatus(trx, request.params.id, verdict, deps.now()));
          if (outcome === "unknown") throw new NotFoundError("instance", request.params.id);
          if (outcome !== "in flight") break;
          // Rare (a callback faster than a commit), so a short poll: the record may be another
          // process's (a `worker` role on PostgreSQL), which this one hears nothing from.
          const left = giveUpAt - Date.now();
          if (left <= 0) throw new UnavailableError("the attempt that sent this message is not recorded yet; try again");
          await sleep(Math.min(recheck, left));
        }
      }
      return reply.code(204).send();
    });
  };
}
