/** Upgrades: a database at an earlier migration, with data in it, brought up to date by openStore. */
import crypto from "node:crypto";
import fs from "node:fs";
import { Kysely, type Migration, Migrator, PostgresDialect } from "kysely";
import { expect, it } from "vitest";
import { signingSecrets } from "../src/actions/signing-secrets.js";
import { openStore } from "../src/db/connect.js";
import * as m001 from "../src/db/migrations/001_initial.js";
import * as m002 from "../src/db/migrations/002_sessions.js";
import * as m003 from "../src/db/migrations/003_failing.js";
import * as m004 from "../src/db/migrations/004_lease_token.js";
import * as m005 from "../src/db/migrations/005_claim_index.js";
import { openSqlite } from "../src/db/sqlite.js";
import { createCipher } from "../src/secrets/cipher.js";
import { cleanupsAfterEach } from "./helpers/cleanups.js";
import { DIALECT, freshDatabase, tempDir } from "./helpers/hookline.js";

const onCleanup = cleanupsAfterEach();

/** A fresh database of this run's dialect, migrated up to (and with) `migrations` only. */
async function databaseAt(migrations: Record<string, Migration>) {
  const dataDir = tempDir();
  const database = await freshDatabase(dataDir);
  onCleanup(async () => {
    await database.drop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });
  // biome-ignore lint/suspicious/noExplicitAny: the schema of an earlier migration, not today's types
  let db: Kysely<any>;
  let close: () => Promise<void>;
  if (DIALECT === "postgres") {
    const { default: pg } = await import("pg");
    db = new Kysely({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: database.url, max: 1 }) }) });
    close = () => db.destroy();
  } else ({ db, close } = openSqlite(database.url.slice("sqlite:".length)));
  const { error } = await new Migrator({ db, provider: { getMigrations: async () => migrations } }).migrateToLatest();
  if (error) throw error;
  return { db, close, url: database.url };
}

it(`[${DIALECT}] an upgrade keeps an action's previous secret signing until its 24 h are over, and drops one already expired`, async () => {
  const { db, close, url } = await databaseAt({
    "001_initial": m001,
    "002_sessions": m002,
    "003_failing": m003,
    "004_lease_token": m004,
    "005_claim_index": m005,
  });
  const cipher = createCipher(crypto.randomBytes(32));
  const now = Date.now();
  await db.insertInto("accounts").values({ id: "acc_1", name: "a", notification_email: null, created_at: 1 }).execute();
  await db
    .insertInto("triggers")
    .values({ id: "trg_1", account_id: "acc_1", name: "t", type: "participant.confirmed", description: null, enabled: 1, created_at: 1, updated_at: 1 })
    .execute();
  const action = (id: string, previousUntil: number) => ({
    id,
    account_id: "acc_1",
    trigger_id: "trg_1",
    name: id,
    type: "webhook",
    enabled: 1,
    settings: "{}",
    secret: cipher.seal(`whsec_${id}_current`),
    previous_secret: cipher.seal(`whsec_${id}_previous`),
    previous_secret_until: previousUntil,
    created_at: 1,
    updated_at: 1,
  });
  await db
    .insertInto("actions")
    .values([action("act_live", now + 3600_000), action("act_expired", now - 1)])
    .execute();
  await close();

  const store = await openStore(url);
  onCleanup(() => store.close());
  const rows = await store.db.selectFrom("actions").select(["id", "secret", "previous_secrets"]).orderBy("id").execute();
  const signingAt = (t: number) => rows.map((row) => signingSecrets({ secret: row.secret, previousSecrets: row.previous_secrets }, t, cipher));
  expect(signingAt(now)).toEqual([["whsec_act_expired_current"], ["whsec_act_live_current", "whsec_act_live_previous"]]);
  expect(signingAt(now + 3600_000)).toEqual([["whsec_act_expired_current"], ["whsec_act_live_current"]]);
});
