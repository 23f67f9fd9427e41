/**
 * The SMS sender: renders the action's body template and hands the message to a Twilio-compatible
 * REST API (POST {base}/2010-04-01/Accounts/{sid}/Messages.json, form-encoded To/From/Body, basic
 * auth). The provider's HTTP answer is classified like a webhook's (retry-policy.ts). Accepted means
 * sent, not delivered: delivery is confirmed later by the provider's status callback
 * (provider-callbacks.ts) when HOOKLINE_PUBLIC_URL tells the provider where to call.
 *
 * Long bodies: the provider splits a message into segments itself and accepts at most 1,600
 * characters; a longer rendered body fails at once, saying so, rather than being cut.
 */
import { Agent } from "undici";
import type { StopSignal } from "../abort.js";
import type { Config } from "../config.js";
import type { ClaimedInstance } from "../instances/instances.js";
import { postOnce } from "./http-request.js";
import { renderMessage } from "./message.js";
import type { AttemptOutcome } from "./outcome.js";
import type { AttemptResult, Sender } from "./sender.js";

/** Twilio's documented maximum for Body, in characters. */
export const SMS_MAX_CHARS = 1600;

type SmsConfig = Pick<Config, "connectTimeoutMs" | "requestTimeoutMs" | "responseBodyCapBytes" | "publicUrl"> & { twilio: NonNullable<Config["twilio"]> };

export function statusCallbackUrl(publicUrl: string, instanceId: string): string {
  return `${publicUrl}/api/v1/callbacks/twilio/${instanceId}`;
}

/** Adds the provider's own explanation (Twilio's error JSON: code and message) to a failure. */
function withProviderError(outcome: AttemptOutcome, body: string): AttemptOutcome {
  if (outcome.kind === "success") return outcome;
  let detail: string | undefined;
  try {
    const error = JSON.parse(body) as { code?: unknown; message?: unknown };
    if (typeof error.message === "string") detail = error.code ? `error ${String(error.code)}: ${error.message}` : error.message;
  } catch {
    detail = body.trim().slice(0, 200) || undefined;
  }
  return detail ? { ...outcome, message: `${outcome.message} (provider ${detail})` } : outcome;
}

export function createSmsSender(config: SmsConfig, { now = Date.now }: { now?: () => number } = {}): Sender & { close(): Promise<void> } {
  const { twilio } = config;
  // The provider's address is the operator's choice, not an account's: it is not subject to the
  // private-network guard that protects webhook URLs.
  const agent = new Agent({ connect: { timeout: config.connectTimeoutMs }, headersTimeout: config.requestTimeoutMs, bodyTimeout: config.requestTimeoutMs });
  const url = `${twilio.baseUrl}/2010-04-01/Accounts/${encodeURIComponent(twilio.accountSid)}/Messages.json`;
  const authorization = `Basic ${Buffer.from(`${twilio.accountSid}:${twilio.authToken}`).toString("base64")}`;
  // A messaging service SID (MG…) is sent as MessagingServiceSid, a number as From.
  const sender: [string, string] = /^MG[0-9a-f]{32}$/i.test(twilio.from) ? ["MessagingServiceSid", twilio.from] : ["From", twilio.from];

  async function send(instance: ClaimedInstance, signal: StopSignal): Promise<AttemptResult> {
    const started = now();
    const settings = JSON.parse(instance.settings) as { to: string; body: string };
    const fail = (message: string, request: Record<string, unknown> = { to: settings.to }): AttemptResult => ({
      outcome: { kind: "permanent", message },
      sent: false,
      confirmsDelivery: false,
      request,
      error: message,
      startedAt: started,
      durationMs: now() - started,
    });
    const rendered = await renderMessage(instance, { body: settings.body });
    if (!rendered.ok) return fail(rendered.error);
    const body = (rendered.parts.body ?? "").trim();
    if (body === "") return fail("the rendered SMS body is empty");
    const length = [...body].length;
    if (length > SMS_MAX_CHARS) return fail(`the rendered SMS body is ${length} characters; the provider accepts at most ${SMS_MAX_CHARS}`);

    const form = new URLSearchParams({ To: settings.to, [sender[0]]: sender[1], Body: body });
    if (config.publicUrl) form.set("StatusCallback", statusCallbackUrl(config.publicUrl, instance.id));
    const headers = { "content-type": "application/x-www-form-urlencoded", authorization };
    const requestLog = { method: "POST", url, headers: { "content-type": headers["content-type"], authorization: "[redacted]" }, body: form.toString() };
    const done = (result: Pick<AttemptResult, "outcome" | "sent" | "response" | "error">): AttemptResult => ({
      ...result,
      confirmsDelivery: false,
      request: requestLog,
      startedAt: started,
      durationMs: now() - started,
    });
    const posted = await postOnce(url, {
      headers,
      body: form.toString(),
      dispatcher: agent,
      signal,
      timeoutMs: config.requestTimeoutMs,
      bodyCap: config.responseBodyCapBytes,
      now,
    });
    const outcome = posted.response ? withProviderError(posted.outcome, posted.response.body) : posted.outcome;
    return done({
      outcome,
      // Sent = handed over: the provider accepted the message.
      sent: outcome.kind === "success",
      ...(posted.response && { response: posted.response }),
      ...(outcome.kind !== "success" && { error: posted.error ?? outcome.message }),
    });
  }

  return { send, close: () => agent.close() };
}
