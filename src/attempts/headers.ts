/**
 * Headers as stored in the attempt log: credentials redacted (a receiver's Set-Cookie, a custom
 * Authorization header), and bounded (at most 100 headers of at most 1 KiB each), so a hostile
 * receiver cannot fill the database through its response headers.
 */
import { REDACTED } from "../actions/settings.js";

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
