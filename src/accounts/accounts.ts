/**
 * Accounts (tenants) and their API keys. A key is shown once, at creation; only its sha256 is
 * stored. Every API call resolves its key to exactly one account and sees only that account's rows.
 */
import { createHash, randomBytes } from "node:crypto";
import type { AccountRow, Db, Executor } from "../db/schema.js";
import type { IdGenerator } from "../ids.js";
import { iso } from "../iso.js";

export interface AccountOut {
  id: string;
  name: string;
  created_at: string;
}

export interface CreatedAccount {
  account_id: string;
  api_key: string;
}

export function hashApiKey(key: string): string {
  return createHash("sha256").update(key).digest("hex");
}

export async function createAccount(db: Executor, deps: { newId: IdGenerator; now: () => number }, name: string): Promise<CreatedAccount> {
  const accountId = deps.newId("acc");
  const now = deps.now();
  await db.insertInto("accounts").values({ id: accountId, name, notification_email: null, time_zone: "UTC", created_at: now }).execute();
  const { api_key } = await createApiKey(db, deps, accountId);
  return { account_id: accountId, api_key };
}

/** A key as an operator sees it after its creation: never the key, only its first characters. */
export interface ApiKeyOut {
  id: string;
  account_id: string;
  /** The key's first 8 characters (`hl_` and 5 more): enough to tell which key a client holds. */
  prefix: string;
  created_at: string;
}

/** Another key for an account (to rotate one: create the new key, move the clients, revoke the old). */
export async function createApiKey(
  db: Executor,
  deps: { newId: IdGenerator; now: () => number },
  accountId: string,
): Promise<{ key_id: string; api_key: string }> {
  const key = `hl_${randomBytes(32).toString("base64url")}`;
  const id = deps.newId("key");
  await db
    .insertInto("api_keys")
    .values({ id, account_id: accountId, key_hash: hashApiKey(key), prefix: key.slice(0, 8), created_at: deps.now() })
    .execute();
  return { key_id: id, api_key: key };
}

export async function listAccounts(db: Executor): Promise<(AccountOut & { keys: number })[]> {
  const rows = await db
    .selectFrom("accounts")
    .leftJoin("api_keys", "api_keys.account_id", "accounts.id")
    .select(["accounts.id", "accounts.name", "accounts.created_at", (eb) => eb.fn.count<number>("api_keys.id").as("keys")])
    .groupBy(["accounts.id", "accounts.name", "accounts.created_at"])
    .orderBy("accounts.created_at")
    .orderBy("accounts.id")
    .execute();
  return rows.map((r) => ({ id: r.id, name: r.name, created_at: iso(r.created_at), keys: Number(r.keys) }));
}

export async function findAccount(db: Executor, accountId: string): Promise<{ id: string; name: string } | undefined> {
  return db.selectFrom("accounts").select(["id", "name"]).where("id", "=", accountId).executeTakeFirst();
}

/** An account that exists (its key or session was just resolved) with its settings. */
export async function getAccountSettings(db: Executor, accountId: string): Promise<Pick<AccountRow, "id" | "name" | "notification_email" | "time_zone">> {
  return db.selectFrom("accounts").select(["id", "name", "notification_email", "time_zone"]).where("id", "=", accountId).executeTakeFirstOrThrow();
}

/**
 * Where the account's notices go (an action failing for a long time; null for none), and the time
 * zone quiet hours fall back on. Only what is given changes.
 */
export async function setAccountSettings(db: Executor, accountId: string, settings: { notification_email?: string | null; time_zone?: string }): Promise<void> {
  if (settings.notification_email === undefined && settings.time_zone === undefined) return;
  await db
    .updateTable("accounts")
    .set({
      ...(settings.notification_email !== undefined && { notification_email: settings.notification_email }),
      ...(settings.time_zone !== undefined && { time_zone: settings.time_zone }),
    })
    .where("id", "=", accountId)
    .execute();
}

export async function listApiKeys(db: Executor, accountId: string): Promise<ApiKeyOut[]> {
  const rows = await db
    .selectFrom("api_keys")
    .select(["id", "account_id", "prefix", "created_at"])
    .where("account_id", "=", accountId)
    .orderBy("created_at")
    .orderBy("id")
    .execute();
  return rows.map((r) => ({ ...r, created_at: iso(r.created_at) }));
}

/**
 * Deletes a key; returns what it was, or undefined if there is no such key. A running server stops
 * accepting it once its cached resolution expires (`KEY_CACHE_TTL_MS`).
 */
export async function revokeApiKey(db: Executor, keyId: string): Promise<ApiKeyOut | undefined> {
  const row = await db.deleteFrom("api_keys").where("id", "=", keyId).returning(["id", "account_id", "prefix", "created_at"]).executeTakeFirst();
  return row && { ...row, created_at: iso(row.created_at) };
}

export async function countAccounts(db: Executor): Promise<number> {
  const row = await db
    .selectFrom("accounts")
    .select((eb) => eb.fn.countAll<number>().as("n"))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** How long a server keeps a key's resolution: a revoked key is refused within this. */
export const KEY_CACHE_TTL_MS = 30_000;

/**
 * Resolves an API key to its account id. Hot (every request): a small cache keeps ingest from
 * paying a query per call. Entries expire so a deleted key stops working within `ttlMs`. The cache
 * is keyed by the key itself, so a request whose key is cached is not hashed again (a SHA-256 per
 * request, on the hot path); the process holds keys only as long as
 * it holds the opened signing secrets (secrets/cipher.ts), in memory, never in the log or on disk.
 */
export function createKeyResolver(db: Db, { ttlMs = KEY_CACHE_TTL_MS, now = Date.now }: { ttlMs?: number; now?: () => number } = {}) {
  const cache = new Map<string, { accountId: string | undefined; until: number }>();
  return async function resolve(key: string): Promise<string | undefined> {
    const hit = cache.get(key);
    if (hit && hit.until > now()) return hit.accountId;
    const row = await db.selectFrom("api_keys").select("account_id").where("key_hash", "=", hashApiKey(key)).executeTakeFirst();
    if (cache.size > 10_000) cache.clear();
    // Unknown keys are cached too (briefly), so guessing keys cannot turn into a database load.
    cache.set(key, { accountId: row?.account_id, until: now() + ttlMs });
    return row?.account_id;
  };
}
