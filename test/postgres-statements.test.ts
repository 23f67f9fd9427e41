/**
 * On PostgreSQL the statements prepared once by Hookline (src/db/prepared.ts) are named statements
 * of each connection (src/db/connect.ts): the server parses and plans one once per connection, and
 * every later call only binds values. Queries built on the fly stay unnamed.
 */
import { sql } from "kysely";
import { expect, it } from "vitest";
import { prepare, prepareInsert } from "../src/db/prepared.js";
import type { Executor } from "../src/db/schema.js";
import { cleanupsAfterEach } from "./helpers/cleanups.js";
import { openFreshStore } from "./helpers/hookline.js";

const onCleanup = cleanupsAfterEach();

const insertAccount = prepare<{ id: string; name: string; now: number }>((db, p) =>
  db.insertInto("accounts").values({ id: p.id, name: p.name, notification_email: null, created_at: p.now }),
);

/** The statements the session of `db`'s connection has prepared over the protocol (not by SQL PREPARE). */
const named = (db: Executor) =>
  sql<{ statement: string }>`select statement from pg_prepared_statements where not from_sql`.execute(db).then((r) => r.rows.map((row) => row.statement));

it("a prepared statement is a named statement of its connection, prepared once however often it runs; other queries stay unnamed", async () => {
  const { db } = await openFreshStore(onCleanup);
  // One connection for the whole transaction: its session is the one asked.
  await db.transaction().execute(async (trx) => {
    const before = await named(trx);
    for (let i = 0; i < 5; i++) await insertAccount(trx, { id: `acc_${i}`, name: `n${i}`, now: i });
    // Two rows to a statement: another SQL text, so another name. (One row would be insertAccount's text, and name.)
    await prepareInsert("accounts")(trx, [
      { id: "acc_8", name: "n8", notification_email: null, time_zone: "UTC", created_at: 8 },
      { id: "acc_9", name: "n9", notification_email: null, time_zone: "UTC", created_at: 9 },
    ]);
    await trx.selectFrom("accounts").select("id").where("name", "=", "n1").execute();
    const added = (await named(trx)).filter((s) => !before.includes(s));
    expect(added).toHaveLength(2);
    expect(added.every((s) => s.startsWith('insert into "accounts"'))).toBe(true);
  });
  expect(await db.selectFrom("accounts").select("id").orderBy("id").execute()).toHaveLength(7);
});

it("a named statement that fails (its key taken) leaves its connection able to run it again", async () => {
  const { db } = await openFreshStore(onCleanup);
  await insertAccount(db, { id: "acc_1", name: "one", now: 1 });
  await expect(insertAccount(db, { id: "acc_1", name: "again", now: 2 })).rejects.toThrow(/duplicate key/);
  await db.transaction().execute((trx) => insertAccount(trx, { id: "acc_2", name: "two", now: 3 }));
  await insertAccount(db, { id: "acc_3", name: "three", now: 4 });
  expect(await db.selectFrom("accounts").select(["id", "name"]).orderBy("id").execute()).toEqual([
    { id: "acc_1", name: "one" },
    { id: "acc_2", name: "two" },
    { id: "acc_3", name: "three" },
  ]);
});
