import { createRequire } from "node:module";
import { describe, expect, it } from "vitest";
import { HEADER_NAME, HEADER_VALUE } from "./actions.js";

// undici's own checks, which it applies when a request is made (not part of its public API).
const undici = createRequire(import.meta.url)("undici/lib/core/util.js") as {
  isValidHTTPToken(name: string): boolean;
  isValidHeaderValue(value: string): boolean;
};

describe("custom header rules", () => {
  const characters = Array.from({ length: 0x180 }, (_, code) => String.fromCharCode(code));

  it("accept a header name exactly when undici would send it", () => {
    for (const c of characters) expect([c, HEADER_NAME.test(`x-${c}`)]).toEqual([c, undici.isValidHTTPToken(`x-${c}`)]);
  });

  it("accept a header value exactly when undici would send it", () => {
    for (const c of characters) expect([c, HEADER_VALUE.test(`a${c}b`)]).toEqual([c, undici.isValidHeaderValue(`a${c}b`)]);
  });
});
