/** What the HTTP senders (webhook, SMS provider) share: one bounded POST, classified. */
import type { Dispatcher } from "undici";
import { type StopSignal, whenAborted } from "../abort.js";
import { memoize } from "../memo.js";
import { BlockedAddressError } from "../net/guarded-lookup.js";
import { type AttemptOutcome, parseRetryAfter } from "./outcome.js";
import { httpOutcome } from "./retry-policy.js";
import type { AttemptResult } from "./sender.js";

/** Classifies a request that got no answer; `sent` says whether it had left (a timeout after connecting). */
export function requestFailure(error: unknown): { outcome: AttemptOutcome; sent: boolean; message: string } {
  const e = error as { name?: string; code?: string; message?: string; cause?: unknown };
  if (e instanceof BlockedAddressError || e.code === "EHOOKLINE_BLOCKED") {
    const message = `blocked: ${e.message}`;
    return { outcome: { kind: "permanent", message }, sent: false, message };
  }
  // The HTTP client refused to build the request (a header it will not send): the same request
  // would be refused again, so it is not retried.
  if (e.code === "UND_ERR_INVALID_ARG" || e.code === "UND_ERR_NOT_SUPPORTED") {
    const message = `request refused by the HTTP client: ${e.message}`;
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

/** Origin and path of the URLs posted to, parsed once each (undici's dispatch takes them apart). */
const targetOf = memoize((url) => {
  const parsed = new URL(url);
  return { origin: parsed.origin, path: `${parsed.pathname}${parsed.search}` };
}, 1_000);

interface Answer {
  status: number;
  headers: Record<string, string | string[]>;
  body: string;
  truncated: boolean;
}

/**
 * POSTs once, within `timeoutMs` in all, reading at most `bodyCap` bytes of the answer, and
 * classifies the outcome (retry-policy.ts). Throws only when `signal` aborted it (shutdown).
 *
 * Through undici's `dispatch` with a handler of our own rather than its `request`: the answer is
 * collected straight from the socket's chunks, and one timer and the caller's signal abort the
 * request through its controller, with no stream or AbortController per request, which this hot
 * path would pay on every delivery (see docs/PERFORMANCE.md, item 21).
 */
export async function postOnce(
  url: string,
  options: {
    headers: Record<string, string>;
    body: string;
    dispatcher: Dispatcher;
    signal: StopSignal;
    timeoutMs: number;
    bodyCap: number;
    now: () => number;
  },
): Promise<PostResult> {
  let answer: Answer;
  try {
    answer = await exchange(url, options);
  } catch (error) {
    if (options.signal.aborted) throw error;
    const failure = requestFailure(error);
    return { outcome: failure.outcome, sent: failure.sent, error: failure.message };
  }
  const retryAfter = parseRetryAfter(answer.headers["retry-after"] as string | undefined, options.now());
  return { outcome: httpOutcome(answer.status, retryAfter), sent: true, response: answer };
}

/** One exchange: resolves with the answer (its body capped), rejects with why there was none. */
function exchange(
  url: string,
  {
    headers,
    body,
    dispatcher,
    signal,
    timeoutMs,
    bodyCap,
  }: { headers: Record<string, string>; body: string; dispatcher: Dispatcher; signal: StopSignal; timeoutMs: number; bodyCap: number },
): Promise<Answer> {
  return new Promise<Answer>((resolve, reject) => {
    let controller: Dispatcher.DispatchController | undefined;
    /** Why to abort, if that was decided before undici handed over the controller. */
    let abortWith: Error | undefined;
    let settled = false;
    let status = 0;
    let answerHeaders: Record<string, string | string[]> = {};
    const chunks: Buffer[] = [];
    let size = 0;

    const abort = (reason: Error) => {
      if (controller) controller.abort(reason);
      else abortWith = reason;
    };
    const timer = setTimeout(() => abort(new DOMException("the request timed out", "TimeoutError")), timeoutMs);
    let unsubscribe: (() => void) | undefined;
    const stop = () => abort(signal.reason instanceof Error ? signal.reason : new DOMException("aborted", "AbortError"));
    const settle = (error: unknown, truncated = false) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      unsubscribe?.();
      if (error !== undefined) reject(error);
      else resolve({ status, headers: answerHeaders, body: Buffer.concat(chunks, size).toString("utf8"), truncated });
    };
    if (signal.aborted) {
      settle(signal.reason);
      return;
    }
    // Through whenAborted: the worker passes its one hard stop to every attempt in flight (abort.ts).
    unsubscribe = whenAborted(signal, stop);

    const { origin, path } = targetOf(url);
    dispatcher.dispatch(
      { origin, path, method: "POST", headers, body },
      {
        onRequestStart(c) {
          controller = c;
          if (abortWith) c.abort(abortWith);
        },
        onResponseStart(_c, statusCode, responseHeaders) {
          // 1xx answers come first and are replaced by the final one.
          status = statusCode;
          answerHeaders = responseHeaders as Record<string, string | string[]>;
        },
        onResponseData(c, chunk) {
          const room = bodyCap - size;
          if (chunk.length <= room) {
            chunks.push(chunk);
            size += chunk.length;
            return;
          }
          // The rest is not kept, and a huge body must not hold the worker: answered, truncated.
          chunks.push(chunk.subarray(0, room));
          size += room;
          settle(undefined, true);
          c.abort(new Error("response body over the cap"));
        },
        onResponseEnd() {
          settle(undefined);
        },
        onResponseError(_c, error) {
          settle(error);
        },
      },
    );
  });
}
