import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { createCipher, decodeKey, loadOrCreateKey, SecretKeyError } from "./cipher.js";

describe("secret sealing", () => {
  const key = Buffer.alloc(32, 7);
  const cipher = createCipher(key);

  it("round-trips, and never stores the plain text", () => {
    const sealed = cipher.seal("whsec_abc");
    expect(sealed).toMatch(/^v1\./);
    expect(sealed).not.toContain("whsec_abc");
    expect(cipher.open(sealed)).toBe("whsec_abc");
    expect(cipher.seal("whsec_abc")).not.toBe(sealed); // fresh IV each time
  });

  it("refuses a different key or a tampered value, with a message naming the key setting", () => {
    const sealed = cipher.seal("whsec_abc");
    expect(() => createCipher(Buffer.alloc(32, 8)).open(sealed)).toThrow(/HOOKLINE_SECRET_KEY/);
    const tampered = `${sealed.slice(0, -2)}AA`;
    expect(() => cipher.open(tampered)).toThrow(SecretKeyError);
  });

  it("reads a configured key as base64 or hex, and refuses a wrong length", () => {
    expect(decodeKey(Buffer.alloc(32, 1).toString("base64"))).toEqual(Buffer.alloc(32, 1));
    expect(decodeKey("01".repeat(32))).toEqual(Buffer.alloc(32, 1));
    expect(() => decodeKey("short")).toThrow(/32 bytes/);
  });

  it("creates the data folder's key once, readable by its owner only, and reuses it", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "hookline-key-"));
    const first = loadOrCreateKey(undefined, dir);
    expect(loadOrCreateKey(undefined, dir)).toEqual(first);
    expect(fs.statSync(path.join(dir, "secret.key")).mode & 0o777).toBe(0o600);
    fs.rmSync(dir, { recursive: true });
  });
});
