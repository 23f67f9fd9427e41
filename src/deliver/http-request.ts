/** What the HTTP senders (webhook, SMS provider) share: one bounded POST, classified. */
import { type Dispatcher, request } from "undici";
import { BlockedAddressError } from "../net/guarded-lookup.js";
import { type AttemptOutcome, parseRetryAfter } from "./outcome.js";
import { httpOutcome } from "./retry-policy.js";
import type { AttemptResult } from "./sender.js";

/** Reads a response body up to `cap` bytes; stops reading (and drops the connection) beyond it. */
export async function readCapped(body: AsyncIterable<Buffer> & { destroy(): void }, cap: number): Promise<{ text: string; truncated: boolean }> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    const room = cap - size;
    if (chunk.length > room) {
      chunks.push(chunk.subarray(0, room));
      // The rest is not kept, and a huge body must not hold the worker.
      body.destroy();
      return { text: Buffer.concat(chunks).toString("utf8"), truncated: true };
    }
    chunks.push(chunk);
    size += chunk.length;
  }
  return { text: Buffer.concat(chunks).toString("utf8"), truncated: false };
}

/** Classifies a request that got no answer; `sent` says whether it had left (a timeout after connecting). */
export function requestFailure(error: unknown): { outcome: AttemptOutcome; sent: boolean; message: string } {
  const e = error as { name?: string; code?: string; message?: string; cause?: unknown };
  if (e instanceof BlockedAddressError || e.code === "EHOOKLINE_BLOCKED") {
    const message = `blocked: ${e.message}`;
    return { outcome: { kind: "permanent", message }, sent: false, message };
  }
  if (e.code === "UND_ERR_CONNECT_TIMEOUT") return { outcome: { kind: "temporary", message: "connect timeout" }, sent: false, message: "connect timeout" };
  if (e.name === "TimeoutError" || e.code === "UND_ERR_HEADERS_TIMEOUT" || e.code === "UND_ERR_BODY_TIMEOUT") {
    const message = "timed out waiting for the receiver";
    return { outcome: { kind: "temporary", message }, sent: true, message };
  }
  const code = e.code ?? (e.cause as { code?: string } | undefined)?.code;
  const text = e.message ?? "network error";
  const message = code && !text.includes(code) ? `${code}: ${text}` : text;
  return { outcome: { kind: "temporary", message }, sent: false, message };
}

export interface PostResult {
  outcome: AttemptOutcome;
  /** The request had left Hookline: it was answered, or timed out after connecting. */
  sent: boolean;
  response?: AttemptResult["response"];
  /** Why there was no answer. */
  error?: string;
}

/**
 * POSTs once, within `timeoutMs` in all, reading at most `bodyCap` bytes of the answer, and
 * classifies the outcome (retry-policy.ts). Throws only when `signal` aborted it (shutdown).
 */
export async function postOnce(
  url: string,
  options: {
    headers: Record<string, string>;
    body: string;
    dispatcher: Dispatcher;
    signal: AbortSignal;
    timeoutMs: number;
    bodyCap: number;
    now: () => number;
  },
): Promise<PostResult> {
  // One controller for both the total timeout and shutdown: AbortSignal.any over AbortSignal.timeout
  // cost about 2 % of the server's CPU per request, and kept a dependent signal per request on
  // the long-lived shutdown signal until a collection.
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(new DOMException("the request timed out", "TimeoutError")), options.timeoutMs);
  const stop = () => abort.abort(options.signal.reason);
  if (options.signal.aborted) stop();
  else options.signal.addEventListener("abort", stop, { once: true });
  try {
    const response = await request(url, {
      method: "POST",
      headers: options.headers,
      body: options.body,
      dispatcher: options.dispatcher,
      signal: abort.signal,
    });
    const body = await readCapped(response.body, options.bodyCap);
    const retryAfter = parseRetryAfter(response.headers["retry-after"] as string | undefined, options.now());
    return {
      outcome: httpOutcome(response.statusCode, retryAfter),
      sent: true,
      response: { status: response.statusCode, headers: response.headers as Record<string, string | string[]>, body: body.text, truncated: body.truncated },
    };
  } catch (error) {
    if (options.signal.aborted) throw error;
    const failure = requestFailure(error);
    return { outcome: failure.outcome, sent: failure.sent, error: failure.message };
  } finally {
    clearTimeout(timer);
    options.signal.removeEventListener("abort", stop);
  }
}
