/**
 * Secrets at rest (action signing secrets, later custom headers) are sealed with AES-256-GCM:
 * `v1.<iv>.<tag>.<ciphertext>` in base64url. The key comes from HOOKLINE_SECRET_KEY or, for the
 * embedded default, from `<data dir>/secret.key`, generated (mode 0600) on first start. A copy of the
 * database alone does not reveal the secrets; the key file must be backed up with it.
 */
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { memoize } from "../memo.js";
import { makePrivateFolder, tightenIfPresent } from "../private-files.js";

export interface Cipher {
  seal(plain: string): string;
  open(sealed: string): string;
}

export class SecretKeyError extends Error {
  override name = "SecretKeyError";
}

/** Opened secrets kept per cipher (sealed text → plain text); cleared when full. */
const OPENED_CACHE = 10_000;

export function createCipher(key: Buffer): Cipher {
  if (key.length !== 32) throw new SecretKeyError("the secret key must be 32 bytes");
  // Every attempt opens its action's secret (and sealed headers): a few AES-GCM setups per
  // delivery, for the same few values. Opened values are kept, as the signers keep their secrets.
  const open = memoize(openSealed, OPENED_CACHE);
  return {
    seal(plain) {
      const iv = randomBytes(12);
      const cipher = createCipheriv("aes-256-gcm", key, iv);
      const ciphertext = Buffer.concat([cipher.update(plain, "utf8"), cipher.final()]);
      return ["v1", iv, cipher.getAuthTag(), ciphertext].map((p) => (typeof p === "string" ? p : p.toString("base64url"))).join(".");
    },
    open,
  };

  function openSealed(sealed: string): string {
    const [version, iv, tag, ciphertext] = sealed.split(".");
    if (version !== "v1" || !iv || !tag || ciphertext === undefined) throw new SecretKeyError("not a sealed secret");
    try {
      const decipher = createDecipheriv("aes-256-gcm", key, Buffer.from(iv, "base64url"));
      decipher.setAuthTag(Buffer.from(tag, "base64url"));
      return Buffer.concat([decipher.update(Buffer.from(ciphertext, "base64url")), decipher.final()]).toString("utf8");
    } catch {
      throw new SecretKeyError("a stored secret cannot be decrypted: HOOKLINE_SECRET_KEY (or <data dir>/secret.key) is not the key it was sealed with");
    }
  }
}

/** Decodes a configured key: 32 bytes as base64 (44 characters) or hex (64 characters). */
export function decodeKey(text: string): Buffer {
  const trimmed = text.trim();
  const key = /^[0-9a-f]{64}$/i.test(trimmed) ? Buffer.from(trimmed, "hex") : Buffer.from(trimmed, "base64");
  if (key.length !== 32) throw new SecretKeyError("HOOKLINE_SECRET_KEY must be 32 bytes, base64 or hex (e.g. `openssl rand -base64 32`)");
  return key;
}

/** The configured key, or the data folder's key file, created on first use. */
export function loadOrCreateKey(configured: string | undefined, dataDir: string): Buffer {
  if (configured) return decodeKey(configured);
  const file = path.join(dataDir, "secret.key");
  try {
    const key = decodeKey(fs.readFileSync(file, "utf8"));
    tightenIfPresent(file);
    return key;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
  makePrivateFolder(dataDir);
  const key = randomBytes(32);
  // wx: never overwrite a key another process just wrote; 0600: readable by the owner only.
  try {
    fs.writeFileSync(file, `${key.toString("base64")}\n`, { mode: 0o600, flag: "wx" });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return decodeKey(fs.readFileSync(file, "utf8"));
    throw error;
  }
  tightenIfPresent(file);
  return key;
}
