/** API keys resolved to their accounts, cached for a while (accounts/accounts.ts createKeyResolver). */
import { expect, it } from "vitest";
import { createAccount, createKeyResolver } from "../src/accounts/accounts.js";
import { newId } from "../src/ids.js";
import { cleanupsAfterEach } from "./helpers/cleanups.js";
import { openFreshStore } from "./helpers/hookline.js";

const onCleanup = cleanupsAfterEach();

it("resolves a key to its account, from the cache until the entry expires, and forgets a deleted key then", async () => {
  const { db } = await openFreshStore(onCleanup);
  const { account_id, api_key } = await createAccount(db, { newId, now: Date.now }, "keys");
  let clock = 1_000_000;
  const resolve = createKeyResolver(db, { ttlMs: 30_000, now: () => clock });
  expect(await resolve(api_key)).toBe(account_id);
  expect(await resolve(`${api_key}x`)).toBeUndefined();

  await db.deleteFrom("api_keys").where("account_id", "=", account_id).execute();
  clock += 29_000;
  // Still cached: a deleted key works until its entry expires.
  expect(await resolve(api_key)).toBe(account_id);
  clock += 2_000;
  expect(await resolve(api_key)).toBeUndefined();
});
