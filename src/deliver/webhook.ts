/**
 * The webhook sender: one HTTP POST of the payload, made with undici through per-origin keep-alive
 * pools. Bounded in every direction: connect timeout, total timeout (a receiver that trickles bytes
 * is cut there), response body read up to a cap, redirects never followed.
 */
import { isIP } from "node:net";
import { Agent } from "undici";
import type { StopSignal } from "../abort.js";
import { openSettings, REDACTED } from "../actions/settings.js";
import { signingSecrets } from "../actions/signing-secrets.js";
import type { Config } from "../config.js";
import { buildPayload } from "../instances/payload.js";
import { memoize } from "../memo.js";
import { type AddressPolicy, createAddressPolicy } from "../net/address-policy.js";
import type { Cidr } from "../net/cidr.js";
import { guardedLookup } from "../net/guarded-lookup.js";
import type { ClaimedInstance } from "../queue/claim.js";
import { type Cipher, createCipher } from "../secrets/cipher.js";
import type { RenderPool } from "../templates/render-pool.js";
import { postOnce } from "./http-request.js";
import type { AttemptResult, Sender } from "./sender.js";
import { signatureHeaders } from "./signing.js";

/**
 * Liquid, for the actions with a body template, is loaded when the first one is sent: most actions
 * send the standard payload, and the webhook thread's memory stays that much smaller (about 13 MB).
 */
let templates: Promise<typeof import("../templates/templates.js")> | undefined;
const loadTemplates = () => {
  templates ??= import("../templates/templates.js");
  return templates;
};

export const USER_AGENT = "Hookline-Webhooks/0.1 (+https://github.com/hookline/hookline)";

/**
 * Marks a test send (POST /actions/{id}/test) to its receiver, which may then skip it (a CRM would
 * otherwise create a contact from the example payload). Not `webhook-*`: Standard Webhooks owns
 * that prefix. Not covered by the signature, which signs the id, timestamp and body only.
 */
export const TEST_HEADER = "x-hookline-test";

interface RequestParts {
  url: string;
  /** Content type, user agent and the action's custom headers. */
  base: Record<string, string>;
  /** The same with the custom headers' values redacted, for the attempt log. */
  logged: Record<string, string>;
  /** The action's body template, if it has one. */
  body?: string;
  /** Why the URL's literal IP host may not be reached; undefined when it may (or is a name). */
  refusal: string | undefined;
}

export type WebhookConfig = Pick<Config, "connectTimeoutMs" | "requestTimeoutMs" | "responseBodyCapBytes" | "concurrency">;

/** What a webhook sender is built from: plain data, so the webhook thread can be given it too. */
export interface WebhookSetup {
  config: WebhookConfig;
  allowedNetworks: readonly Cidr[];
  /** The key sealing actions' settings and secrets. */
  key: Uint8Array;
}

/**
 * The webhook sender of a setup, on whichever thread calls this: on the server's, body templates
 * render on its render threads (`templates`); on the webhook thread, on that thread itself, which
 * serves no API calls and no ingest.
 */
export function webhookSenderFor(
  setup: WebhookSetup,
  { now, templates }: { now?: () => number; templates?: RenderPool } = {},
): Sender & { close(): Promise<void> } {
  return createWebhookSender(setup.config, {
    policy: createAddressPolicy(setup.allowedNetworks),
    cipher: createCipher(Buffer.from(setup.key)),
    ...(now && { now }),
    ...(templates && { templates }),
  });
}

export function createWebhookSender(
  config: WebhookConfig,
  { policy, cipher, now = Date.now, templates }: { policy: AddressPolicy; cipher: Cipher; now?: () => number; templates?: RenderPool },
): Sender & { close(): Promise<void> } {
  const agent = createAgent(config, policy);
  const partsOf = requestPartsOf(policy, cipher);

  async function send(instance: ClaimedInstance, signal: StopSignal): Promise<AttemptResult> {
    const started = now();
    const { url, base, logged, body, refusal } = partsOf(instance.settings);
    const secrets = signingSecrets(instance, started, cipher);
    const requestLog = { method: "POST", url, headers: logged };
    const payload = body ? await renderBody(instance, body, templates) : buildPayload(instance.objectKey, instance.object, instance.id);
    if (payload instanceof TemplateFailure) {
      return {
        outcome: { kind: "permanent", message: payload.message },
        sent: false,
        confirmsDelivery: true,
        // A copy: `logged` is shared by every request of the action.
        request: { ...requestLog, headers: { ...logged } },
        error: payload.message,
        startedAt: started,
        durationMs: now() - started,
      };
    }
    const signature = signatureHeaders({ id: instance.id, payload, now: started }, secrets);
    const marks = instance.test === 1 ? { ...signature, [TEST_HEADER]: "true" } : signature;
    const headers = { ...base, ...marks };
    requestLog.headers = { ...logged, ...marks };
    const done = (result: Omit<AttemptResult, "request" | "startedAt" | "durationMs" | "confirmsDelivery">): AttemptResult => ({
      ...result,
      confirmsDelivery: true,
      request: requestLog,
      startedAt: started,
      durationMs: now() - started,
    });

    if (refusal) return done({ outcome: { kind: "permanent", message: `blocked: ${refusal}` }, sent: false, error: `blocked: ${refusal}` });

    const posted = await postOnce(url, {
      headers,
      body: payload,
      dispatcher: agent,
      signal,
      timeoutMs: config.requestTimeoutMs,
      bodyCap: config.responseBodyCapBytes,
      now,
    });
    return done({
      outcome: posted.outcome,
      sent: posted.sent,
      ...(posted.response && { response: posted.response }),
      ...(posted.error && { error: posted.error }),
    });
  }

  return { send, close: () => agent.close() };
}

/** Per-origin keep-alive pools, bounded in time, connecting only where the address policy allows. */
function createAgent(config: WebhookConfig, policy: AddressPolicy): Agent {
  return new Agent({
    // Per origin (host:port). Many actions share one origin (hooks.zapier.com, hooks.slack.com), and
    // the worker already caps requests per action and in all; a tighter cap here let hanging
    // endpoints take every connection to their host from the healthy ones on it.
    connections: config.concurrency,
    connect: { timeout: config.connectTimeoutMs, lookup: guardedLookup(policy) },
    keepAliveTimeout: 30_000,
    headersTimeout: config.requestTimeoutMs,
    bodyTimeout: config.requestTimeoutMs,
  });
}

/**
 * What an action's stored settings give each of its requests, worked out once per distinct
 * settings string: parsing them, the headers, their redacted copy for the log and the check of a
 * literal IP host are the same for every request of an action (docs/PERFORMANCE.md, item 20).
 */
function requestPartsOf(policy: AddressPolicy, cipher: Cipher): (stored: string) => RequestParts {
  return memoize((stored): RequestParts => {
    const settings = openSettings(stored, cipher);
    const url = settings.url as string;
    const custom = settings.headers ?? {};
    const base = { "content-type": "application/json", "user-agent": USER_AGENT, ...custom };
    // A literal IP is connected to without a DNS lookup, so the guarded lookup never sees it: check it here.
    // (WHATWG URL parsing already turned decimal/octal/hex IPv4 forms into dotted form.)
    const host = new URL(url).hostname.replace(/^\[|\]$/g, "");
    return {
      url,
      base,
      // The values of custom headers are secrets (API keys, tokens): the log keeps only their names.
      logged: { ...base, ...Object.fromEntries(Object.keys(custom).map((k) => [k, REDACTED])) },
      ...(settings.body !== undefined && { body: settings.body }),
      refusal: isIP(host) !== 0 ? policy.refusal(host) : undefined,
    };
  }, 1_000);
}

/** Why an action's body template could not render for an instance: its attempt fails for good. */
class TemplateFailure {
  constructor(readonly message: string) {}
}

/** The action's body template rendered for `instance`, on the render threads when given. */
async function renderBody(instance: ClaimedInstance, body: string, templates: RenderPool | undefined): Promise<string | TemplateFailure> {
  const { renderJob, TemplateError, templateContext } = await loadTemplates();
  const job = { source: body, context: templateContext(instance.objectKey, JSON.parse(instance.object), instance.id), kind: "json" as const };
  try {
    return await (templates ? templates.render(instance.actionId, job) : renderJob(job));
  } catch (error) {
    if (!(error instanceof TemplateError)) throw error;
    return new TemplateFailure(`body template: ${error.message}`);
  }
}
