/**
 * The webhook sender: one HTTP POST of the payload, made with undici through per-origin keep-alive
 * pools. Bounded in every direction: connect timeout, total timeout (a receiver that trickles bytes
 * is cut there), response body read up to a cap, redirects never followed.
 */
import { isIP } from "node:net";
import { Agent, request } from "undici";
import type { Config } from "../config.js";
import type { ClaimedInstance } from "../instances/instances.js";
import { buildPayload } from "../instances/payload.js";
import type { AddressPolicy } from "../net/address-policy.js";
import { BlockedAddressError, guardedLookup } from "../net/guarded-lookup.js";
import { parseRetryAfter } from "./outcome.js";
import type { AttemptResult, Sender } from "./sender.js";
import { signatureHeaders } from "./signing.js";

export const USER_AGENT = "Hookline-Webhooks/0.1 (+https://github.com/hookline/hookline)";

type WebhookConfig = Pick<Config, "connectTimeoutMs" | "requestTimeoutMs" | "responseBodyCapBytes" | "perEndpointConcurrency">;

async function readCapped(body: AsyncIterable<Buffer> & { destroy(): void }, cap: number): Promise<{ text: string; truncated: boolean }> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    const room = cap - size;
    if (chunk.length >= room) {
      if (room > 0) chunks.push(chunk.subarray(0, room));
      const truncated = chunk.length > room;
      size = cap;
      if (truncated) {
        // Stop reading: the rest is not kept, and a huge body must not hold the worker.
        body.destroy();
        return { text: Buffer.concat(chunks).toString("utf8"), truncated: true };
      }
      continue;
    }
    chunks.push(chunk);
    size += chunk.length;
  }
  return { text: Buffer.concat(chunks).toString("utf8"), truncated: false };
}

/** Classifies a failed request; `sent` says whether the request had left (a timeout after connecting). */
function describeError(error: unknown): { kind: "timeout" | "network" | "refused"; message: string; sent: boolean } {
  const e = error as { name?: string; code?: string; message?: string; cause?: unknown };
  if (e instanceof BlockedAddressError || e.code === "EHOOKLINE_BLOCKED") return { kind: "refused", message: `blocked: ${e.message}`, sent: false };
  if (e.code === "UND_ERR_CONNECT_TIMEOUT") return { kind: "timeout", message: "connect timeout", sent: false };
  if (e.name === "TimeoutError" || e.code === "UND_ERR_HEADERS_TIMEOUT" || e.code === "UND_ERR_BODY_TIMEOUT") {
    return { kind: "timeout", message: "timed out waiting for the receiver", sent: true };
  }
  const code = e.code ?? (e.cause as { code?: string } | undefined)?.code;
  const message = e.message ?? "network error";
  return { kind: "network", message: code && !message.includes(code) ? `${code}: ${message}` : message, sent: false };
}

export function createWebhookSender(
  config: WebhookConfig,
  policy: AddressPolicy,
  { now = Date.now }: { now?: () => number } = {},
): Sender & { close(): Promise<void> } {
  const agent = new Agent({
    connections: config.perEndpointConcurrency * 2,
    connect: { timeout: config.connectTimeoutMs, lookup: guardedLookup(policy) },
    keepAliveTimeout: 30_000,
    headersTimeout: config.requestTimeoutMs,
    bodyTimeout: config.requestTimeoutMs,
  });

  async function send(instance: ClaimedInstance, signal: AbortSignal): Promise<AttemptResult> {
    const { url } = JSON.parse(instance.settings) as { url: string };
    const payload = buildPayload(instance.objectKey, instance.object, instance.id);
    const started = now();
    const secrets = [instance.secret];
    if (instance.previousSecret && (instance.previousSecretUntil ?? 0) > started) secrets.push(instance.previousSecret);
    const headers = {
      "content-type": "application/json",
      "user-agent": USER_AGENT,
      ...signatureHeaders({ id: instance.id, payload, now: started }, secrets),
    };
    const requestLog = { method: "POST", url, headers };
    const done = (result: Omit<AttemptResult, "request" | "startedAt" | "durationMs">): AttemptResult => ({
      ...result,
      request: requestLog,
      startedAt: started,
      durationMs: now() - started,
    });

    // A literal IP is connected to without a DNS lookup, so the guarded lookup never sees it: check it here.
    // (WHATWG URL parsing already turned decimal/octal/hex IPv4 forms into dotted form.)
    const host = new URL(url).hostname.replace(/^\[|\]$/g, "");
    if (isIP(host) !== 0) {
      const refusal = policy.refusal(host);
      if (refusal) return done({ outcome: { kind: "refused", message: `blocked: ${refusal}` }, sent: false });
    }

    try {
      const response = await request(url, {
        method: "POST",
        headers,
        body: payload,
        dispatcher: agent,
        signal: AbortSignal.any([signal, AbortSignal.timeout(config.requestTimeoutMs)]),
      });
      const body = await readCapped(response.body, config.responseBodyCapBytes);
      const retryAfter = parseRetryAfter(response.headers["retry-after"] as string | undefined, now());
      return done({
        outcome: { kind: "response", status: response.statusCode, ...(retryAfter !== undefined && { retryAfterMs: retryAfter }) },
        sent: true,
        response: { status: response.statusCode, headers: response.headers as Record<string, string | string[]>, body: body.text, truncated: body.truncated },
      });
    } catch (error) {
      if (signal.aborted) throw error; // shutdown: not an attempt at all
      const { kind, message, sent } = describeError(error);
      return done({ outcome: { kind, message }, sent, error: message });
    }
  }

  return { send, close: () => agent.close() };
}
