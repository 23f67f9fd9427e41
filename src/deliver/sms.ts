/**
 * The SMS sender: renders the action's body template and hands the message to a Twilio-compatible
 * REST API (POST {base}/2010-04-01/Accounts/{sid}/Messages.json, form-encoded To/From/Body, basic
 * auth). The provider's HTTP answer is classified like a webhook's (retry-policy.ts). Accepted means
 * sent, not delivered: delivery is confirmed later by the provider's status callback
 * (provider-callbacks.ts) when HOOKLINE_PUBLIC_URL tells the provider where to call.
 *
 * Long bodies: the provider splits a message into segments itself and accepts at most 1,600
 * characters; a longer rendered body fails at once, saying so, rather than being cut.
 *
 * The recipient may be a template (`{{ participant.phone }}`): one that renders empty or no phone
 * number fails at once, saying so. A recipient on the account's stop list is not messaged: the
 * instance is suppressed, not failed.
 *
 * The attempt log keeps the message as sent: the provider's URL and the form fields (To, From or
 * MessagingServiceSid, Body, StatusCallback), never the credentials. A message refused before it
 * is sent (too long, a template error, no provider) keeps as much of it as could be rendered.
 */
import { Agent } from "undici";
import type { StopSignal } from "../abort.js";
import { REDACTED } from "../actions/settings.js";
import type { Config } from "../config.js";
import type { ClaimedInstance } from "../queue/claim.js";
import type { RenderPool } from "../templates/render-pool.js";
import { SMS_MAX_CHARS } from "../templates/sms-segments.js";
import { postOnce } from "./http-request.js";
import { onStopList, renderMessage, renderRecipients, type StopListLookup } from "./message.js";
import type { AttemptOutcome } from "./outcome.js";
import { type AttemptResult, notConfiguredSender, type Sender } from "./sender.js";

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

/** An SMS as far as it could be rendered: To, and Body unless its template failed; `problem` says why it cannot be sent. */
interface SmsDraft {
  fields: { To: string; Body?: string };
  problem?: string;
}

/** Renders an instance's SMS (its recipient too, when a template) and checks it against what the provider accepts. */
async function draftSms(templates: RenderPool, instance: ClaimedInstance): Promise<SmsDraft> {
  const settings = JSON.parse(instance.settings) as { to: string; body: string };
  const recipients = await renderRecipients(templates, instance, "phone", settings.to);
  const to = recipients.to[0] ?? settings.to;
  if (!recipients.ok) return { fields: { To: to }, problem: recipients.error };
  const rendered = await renderMessage(templates, instance, { body: settings.body });
  if (!rendered.ok) return { fields: { To: to }, problem: rendered.error };
  const body = (rendered.parts.body ?? "").trim();
  const fields = { To: to, Body: body };
  if (body === "") return { fields, problem: "the rendered SMS body is empty" };
  const length = [...body].length;
  if (length > SMS_MAX_CHARS) return { fields, problem: `the rendered SMS body is ${length} characters; the provider accepts at most ${SMS_MAX_CHARS}` };
  return { fields };
}

/** Without a provider, an SMS instance fails saying so, and its attempt shows the message as rendered. */
export function smsNotConfiguredSender(message: string, { templates, ...options }: { templates: RenderPool; now?: () => number }): Sender {
  return notConfiguredSender(message, { ...options, describe: async (instance) => ({ form: (await draftSms(templates, instance)).fields }) });
}

export function createSmsSender(
  config: SmsConfig,
  { templates, stopList, now = Date.now }: { templates: RenderPool; stopList: StopListLookup; now?: () => number },
): Sender & { close(): Promise<void> } {
  const { twilio } = config;
  // The provider's address is the operator's choice, not an account's: it is not subject to the
  // private-network guard that protects webhook URLs.
  const agent = new Agent({ connect: { timeout: config.connectTimeoutMs }, headersTimeout: config.requestTimeoutMs, bodyTimeout: config.requestTimeoutMs });
  const url = `${twilio.baseUrl}/2010-04-01/Accounts/${encodeURIComponent(twilio.accountSid)}/Messages.json`;
  const authorization = `Basic ${Buffer.from(`${twilio.accountSid}:${twilio.authToken}`).toString("base64")}`;
  const contentType = "application/x-www-form-urlencoded";
  // A messaging service SID (MG…) is sent as MessagingServiceSid, a number as From.
  const sender: [string, string] = /^MG[0-9a-f]{32}$/i.test(twilio.from) ? ["MessagingServiceSid", twilio.from] : ["From", twilio.from];

  async function send(instance: ClaimedInstance, signal: StopSignal): Promise<AttemptResult> {
    const started = now();
    const draft = await draftSms(templates, instance);
    const form: Record<string, string> = { To: draft.fields.To, [sender[0]]: sender[1] };
    if (draft.fields.Body !== undefined) form.Body = draft.fields.Body;
    if (config.publicUrl) form.StatusCallback = statusCallbackUrl(config.publicUrl, instance.id);
    // The log's copy never holds the credentials, whatever the stored-headers filter would catch.
    const request = { method: "POST", url, headers: { "content-type": contentType, authorization: REDACTED }, form };
    const done = (result: Pick<AttemptResult, "outcome" | "sent" | "response" | "error">): AttemptResult => ({
      ...result,
      confirmsDelivery: false,
      request,
      startedAt: started,
      durationMs: now() - started,
    });
    if (draft.problem) return done({ outcome: { kind: "permanent", message: draft.problem }, sent: false, error: draft.problem });
    const since = (await stopList(instance.accountId, "phone", [draft.fields.To])).get(draft.fields.To);
    if (since !== undefined) {
      const message = onStopList(draft.fields.To, since);
      return done({ outcome: { kind: "suppressed", message }, sent: false, error: message });
    }

    const posted = await postOnce(url, {
      headers: { "content-type": contentType, authorization },
      body: new URLSearchParams(form).toString(),
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
