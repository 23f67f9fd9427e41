/**
 * Signing in to the web UI. Three ways, all ending in the same session:
 *  - a one-time login link (`hookline login-link <account>`, and printed on first start);
 *  - a signed embed token from the platform: `<payload>.<signature>`, payload = base64url JSON
 *    `{"account_id", "exp"}` (exp in Unix seconds, at most EMBED_TOKEN_MAX_TTL_MS ahead), signature =
 *    base64url HMAC-SHA256 of the payload part with HOOKLINE_EMBED_SECRET;
 *  - (for the API, not here) a Bearer key.
 * Tokens and session ids are stored as SHA-256 hashes; a database copy cannot be used to sign in.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { z } from "zod";
import type { Executor } from "../db/schema.js";

export const LOGIN_TOKEN_TTL_MS = 15 * 60_000;
export const SESSION_TTL_MS = 12 * 3600_000;
/**
 * An embed token is signed for one opening of the platform's page: one valid for longer is refused
 * (a leaked URL would sign in for as long), and the session it starts lasts one sitting, not a day.
 */
export const EMBED_TOKEN_MAX_TTL_MS = 10 * 60_000;
export const EMBED_SESSION_TTL_MS = 3600_000;

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");
const randomToken = () => randomBytes(32).toString("base64url");

export async function createLoginToken(db: Executor, accountId: string, now: number): Promise<string> {
  const token = randomToken();
  await db
    .insertInto("login_tokens")
    .values({ token_hash: sha256(token), account_id: accountId, expires_at: now + LOGIN_TOKEN_TTL_MS, used_at: null })
    .execute();
  return token;
}

/** Uses a login token up: the account it signs in to, or undefined if unknown, expired or already used. */
export async function redeemLoginToken(db: Executor, token: string, now: number): Promise<string | undefined> {
  const hash = sha256(token);
  const result = await db
    .updateTable("login_tokens")
    .set({ used_at: now })
    .where("token_hash", "=", hash)
    .where("used_at", "is", null)
    .where("expires_at", ">", now)
    .executeTakeFirst();
  if (Number(result.numUpdatedRows) !== 1) return undefined;
  const row = await db.selectFrom("login_tokens").select("account_id").where("token_hash", "=", hash).executeTakeFirstOrThrow();
  return row.account_id;
}

export interface Session {
  accountId: string;
  csrf: string;
}

export async function createSession(
  db: Executor,
  accountId: string,
  now: number,
  ttlMs = SESSION_TTL_MS,
): Promise<{ id: string; csrf: string; expiresAt: number }> {
  const id = randomToken();
  const csrf = randomToken();
  const expiresAt = now + ttlMs;
  await db
    .insertInto("sessions")
    .values({ id_hash: sha256(id), account_id: accountId, csrf, expires_at: expiresAt, created_at: now })
    .execute();
  return { id, csrf, expiresAt };
}

export async function resolveSession(db: Executor, id: string, now: number): Promise<Session | undefined> {
  const row = await db.selectFrom("sessions").select(["account_id", "csrf"]).where("id_hash", "=", sha256(id)).where("expires_at", ">", now).executeTakeFirst();
  return row ? { accountId: row.account_id, csrf: row.csrf } : undefined;
}

export async function deleteSession(db: Executor, id: string): Promise<void> {
  await db.deleteFrom("sessions").where("id_hash", "=", sha256(id)).execute();
}

export function signEmbedToken(secret: string, payload: { account_id: string; exp: number }): string {
  const body = Buffer.from(JSON.stringify(payload)).toString("base64url");
  return `${body}.${createHmac("sha256", secret).update(body).digest("base64url")}`;
}

const EmbedPayload = z.object({ account_id: z.string(), exp: z.number() });

/** What an embed token signs in to, or why it is refused (said on the page, for the platform's developers). */
export type EmbedVerdict = { accountId: string } | { refused: string };

/** The account an embed token names, if it is `payload.signature`, its signature verifies, and its exp is near. */
export function verifyEmbedToken(secret: string, token: string, nowMs: number): EmbedVerdict {
  const parts = token.split(".");
  const [body, signature] = parts;
  if (parts.length !== 2 || !body || !signature) return { refused: "it is not two parts, payload.signature" };
  const expected = Buffer.from(createHmac("sha256", secret).update(body).digest("base64url"));
  const given = Buffer.from(signature);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) return { refused: "its signature does not verify" };
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(body, "base64url").toString("utf8"));
  } catch {
    return { refused: "its payload is not JSON" };
  }
  const parsed = EmbedPayload.safeParse(json);
  if (!parsed.success) return { refused: "its payload is not {account_id, exp}" };
  const payload = parsed.data;
  if (payload.exp * 1000 <= nowMs) return { refused: "it has expired" };
  if (payload.exp * 1000 > nowMs + EMBED_TOKEN_MAX_TTL_MS) {
    return { refused: `its exp is more than ${EMBED_TOKEN_MAX_TTL_MS / 60_000} minutes ahead; sign a token just before opening the page` };
  }
  return { accountId: payload.account_id };
}
