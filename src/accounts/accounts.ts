/**
 * Accounts (tenants) and their API keys. A key is shown once, at creation; only its sha256 is
 * stored. Every API call resolves its key to exactly one account and sees only that account's rows.
 */
import { createHash, randomBytes } from "node:crypto";
import type { Db, Executor } from "../db/schema.js";
import type { IdGenerator } from "../ids.js";

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
  await db.insertInto("accounts").values({ id: accountId, name, notification_email: null, created_at: now }).execute();
  const apiKey = await createApiKey(db, deps, accountId);
  return { account_id: accountId, api_key: apiKey };
}

export async function createApiKey(db: Executor, deps: { newId: IdGenerator; now: () => number }, accountId: string): Promise<string> {
  const key = `hl_${randomBytes(32).toString("base64url")}`;
  await db
    .insertInto("api_keys")
    .values({ id: deps.newId("key"), account_id: accountId, key_hash: hashApiKey(key), prefix: key.slice(0, 8), created_at: deps.now() })
    .execute();
  return key;
}

export async function countAccounts(db: Executor): Promise<number> {
  const row = await db
    .selectFrom("accounts")
    .select((eb) => eb.fn.countAll<number>().as("n"))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/**
 * Resolves an API key to its account id. Hot (every request): a small cache keeps ingest from
 * paying a query per call. Entries expire so a deleted key stops working within `ttlMs`. The cache
 * is keyed by the key itself, so a request whose key is cached is not hashed again (the SHA-256
 * was about 1.5 % of the main thread's time at full load); the process holds keys only as long as
 * it holds the opened signing secrets (secrets/cipher.ts), in memory, never in the log or on disk.
 */
export function createKeyResolver(db: Db, { ttlMs = 30_000, now = Date.now }: { ttlMs?: number; now?: () => number } = {}) {
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
