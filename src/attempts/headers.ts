/**
 * Headers as stored in the attempt log: credentials redacted (a receiver's Set-Cookie, a custom
 * Authorization header), and bounded (at most 100 headers of at most 1 KiB each), so a hostile
 * receiver cannot fill the database through its response headers.
 */
import { REDACTED } from "../actions/settings.js";
import type { AttemptResult, StoredExchange } from "../deliver/sender.js";

const MAX_HEADERS = 100;
const MAX_VALUE = 1024;

const SENSITIVE = /^(authorization|proxy-authorization|cookie|set-cookie)$|api[-_]?key|token|secret|password|credential|session/i;

export function isSensitiveHeader(name: string): boolean {
  return SENSITIVE.test(name);
}

export function storedHeaders(headers: Readonly<Record<string, unknown>>): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  const cap = (v: unknown) => {
    const text = String(v);
    return text.length > MAX_VALUE ? `${text.slice(0, MAX_VALUE)}…` : text;
  };
  const names = Object.keys(headers);
  for (let i = 0; i < names.length && i < MAX_HEADERS; i++) {
    const name = names[i] as string;
    const value = headers[name];
    if (value === undefined) continue;
    out[name] = isSensitiveHeader(name) ? REDACTED : Array.isArray(value) ? value.slice(0, 20).map(cap) : cap(value);
  }
  return out;
}

/** An attempt's request (its headers as stored) and its answer's headers, as the attempt log keeps them. */
export function storedExchange(result: Pick<AttemptResult, "request" | "response">): StoredExchange {
  const headers = result.request.headers as Record<string, unknown> | undefined;
  return {
    request: JSON.stringify(headers ? { ...result.request, headers: storedHeaders(headers) } : result.request),
    responseHeaders: result.response ? JSON.stringify(storedHeaders(result.response.headers)) : null,
  };
}

/**
 * The result with its exchange in stored form, for a sender on another thread than the recorder:
 * two strings cross instead of the header objects, and the thread with the database neither
 * copies nor serialises them (BENCHMARKS.md, item 33).
 */
export function withStoredExchange(result: AttemptResult): AttemptResult {
  const { response } = result;
  return { ...result, request: {}, ...(response && { response: { ...response, headers: {} } }), stored: storedExchange(result) };
}
