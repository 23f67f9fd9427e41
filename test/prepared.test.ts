/**
 * Prepared statements (src/db/prepared.ts): built once with named placeholders, run many times with
 * values only. They must behave exactly as the same query built by Kysely on every call, on both
 * dialects, and refuse what they cannot express instead of sending a placeholder to the database.
 */
import { type KyselyPlugin, sql } from "kysely";
import { expect, it, vi } from "vitest";
import type { Store } from "../src/db/connect.js";
import { direct, MAX_ROWS_PER_STATEMENT, PreparedStatementError, prepare, prepareInsert } from "../src/db/prepared.js";
import { cleanupsAfterEach } from "./helpers/cleanups.js";
import { DIALECT, openFreshStore } from "./helpers/hookline.js";

const onCleanup = cleanupsAfterEach();

const store = (): Promise<Store> => openFreshStore(onCleanup);

const insertAccount = prepare<{ id: string; name: string; email: string | null; now: number }>((db, p) =>
  db.insertInto("accounts").values({ id: p.id, name: p.name, notification_email: p.email, created_at: p.now }),
);
const renameAccount = prepare<{ id: string; name: string }>((db, p) =>
  db
    .updateTable("accounts")
    .set({ name: sql<string>`${p.name} || '!'` })
    .where("id", "=", p.id),
);
const accountsNamed = prepare<{ a: string; b: string }, { id: string; name: string }>((db, p) =>
  db.selectFrom("accounts").select(["id", "name"]).where("name", "in", [p.a, p.b]).where("created_at", ">", 0).orderBy("id"),
);

it(`[${DIALECT}] runs with the values of each call, constants kept, as the same query built by Kysely would`, async () => {
  const { db } = await store();
  await insertAccount(db, { id: "acc_1", name: "one", email: null, now: 1 });
  await db.transaction().execute((trx) => insertAccount(trx, { id: "acc_2", name: "two", email: "a@example.com", now: 2 }));
  const renamed = await renameAccount(db, { id: "acc_2", name: "deux" });
  expect(Number(renamed.numAffectedRows)).toBe(1);

  const rows = await db.selectFrom("accounts").select(["id", "name", "notification_email", "created_at"]).orderBy("id").execute();
  expect(rows).toEqual([
    { id: "acc_1", name: "one", notification_email: null, created_at: 1 },
    { id: "acc_2", name: "deux!", notification_email: "a@example.com", created_at: 2 },
  ]);
  expect((await accountsNamed(db, { a: "one", b: "deux!" })).rows).toEqual([
    { id: "acc_1", name: "one" },
    { id: "acc_2", name: "deux!" },
  ]);
  expect((await accountsNamed(db, { a: "one", b: "one" })).rows).toEqual([{ id: "acc_1", name: "one" }]);
});

it(`[${DIALECT}] refuses a call missing a value rather than binding nothing`, async () => {
  const { db } = await store();
  await expect(insertAccount(db, { id: "acc_1", name: "one", now: 1 } as never)).rejects.toThrow(PreparedStatementError);
  expect(await db.selectFrom("accounts").select("id").execute()).toEqual([]);
});

it(`[${DIALECT}] refuses a statement whose placeholder would be written into the SQL instead of bound`, async () => {
  const { db } = await store();
  const inlined = prepare<{ name: string }>((db, p) => db.selectFrom("accounts").select("id").where("name", "=", sql.lit(p.name)));
  await expect(inlined(db, { name: "x" })).rejects.toThrow(/inlined/);
});

it(`[${DIALECT}] an insert prepared from its first row's columns stores every later row whole`, async () => {
  const { db } = await store();
  const insert = prepareInsert("accounts");
  await insert(db, [{ id: "acc_1", name: "one", notification_email: null, time_zone: "UTC", created_at: 1 }]);
  // Keys in another order name the same columns.
  await insert(db, [{ created_at: 2, time_zone: "UTC", notification_email: "b@example.com", name: "two", id: "acc_2" }]);
  expect(await db.selectFrom("accounts").selectAll().orderBy("id").execute()).toEqual([
    { id: "acc_1", name: "one", notification_email: null, time_zone: "UTC", created_at: 1 },
    { id: "acc_2", name: "two", notification_email: "b@example.com", time_zone: "UTC", created_at: 2 },
  ]);
  await expect(insert(db, [{ id: "acc_3", name: "three", created_at: 3 } as never])).rejects.toThrow(PreparedStatementError);
});

it(`[${DIALECT}] a prepared insert writes any number of rows in chunks of at most ${MAX_ROWS_PER_STATEMENT}, each row whole and none twice`, async () => {
  const { db } = await store();
  const insert = prepareInsert("accounts");
  const rows = (from: number, n: number) =>
    Array.from({ length: n }, (_, i) => ({
      id: `acc_${String(from + i).padStart(4, "0")}`,
      name: `n${from + i}`,
      notification_email: null,
      time_zone: "UTC",
      created_at: from + i,
    }));
  const statements = vi.spyOn(db, "executeQuery");
  // 200 = 64 + 64 + 64 + 8; 13 = 8 + 4 + 1.
  await insert(db, rows(0, 200));
  expect(statements).toHaveBeenCalledTimes(4);
  await insert(db, rows(200, 13));
  expect(statements).toHaveBeenCalledTimes(7);
  await insert(db, []);
  expect(statements).toHaveBeenCalledTimes(7);
  expect(await db.selectFrom("accounts").selectAll().orderBy("id").execute()).toEqual(rows(0, 213));
});

it(`[${DIALECT}] inside \`direct\`, prepared statements run on the transaction's own connection, not through Kysely's executor, and roll back with it`, async () => {
  const { db } = await store();
  const failed = db.transaction().execute((trx) =>
    direct(trx, async (t) => {
      const throughKysely = vi.spyOn(t, "executeQuery");
      await insertAccount(t, { id: "acc_1", name: "one", email: null, now: 1 });
      expect(throughKysely).not.toHaveBeenCalled();
      // The same connection: a query built by Kysely in the transaction sees the row.
      expect(await t.selectFrom("accounts").select("id").execute()).toEqual([{ id: "acc_1" }]);
      expect((await accountsNamed(t, { a: "one", b: "one" })).rows).toEqual([{ id: "acc_1", name: "one" }]);
      throw new Error("roll back");
    }),
  );
  await expect(failed).rejects.toThrow("roll back");
  expect(await db.selectFrom("accounts").select("id").execute()).toEqual([]);
});

it(`[${DIALECT}] once \`direct\`'s work settles, its transaction's statements go through Kysely again, which refuses a finished transaction`, async () => {
  const { db } = await store();
  let kept: Parameters<Parameters<typeof direct>[1]>[0] | undefined;
  await db.transaction().execute((trx) =>
    direct(trx, async (t) => {
      kept = t;
      await insertAccount(t, { id: "acc_1", name: "one", email: null, now: 1 });
    }),
  );
  if (!kept) throw new Error("work did not run");
  await expect(insertAccount(kept, { id: "acc_2", name: "two", email: null, now: 2 })).rejects.toThrow(/committed/);
  expect(await db.selectFrom("accounts").select("id").execute()).toEqual([{ id: "acc_1" }]);
});

it(`[${DIALECT}] plugins see a prepared statement as any query, paired with its result, but may not change it`, async () => {
  const { db } = await store();
  // Compiled (once) before any plugin is about.
  await insertAccount(db, { id: "acc_0", name: "zero", email: null, now: 0 });
  const seen: string[] = [];
  const ids = new Set<unknown>();
  const watching: KyselyPlugin = {
    transformQuery(args) {
      ids.add(args.queryId);
      seen.push(args.node.kind);
      return args.node;
    },
    async transformResult(args) {
      seen.push(ids.delete(args.queryId) ? "its result" : "another result");
      return args.result;
    },
  };
  await insertAccount(db.withPlugin(watching), { id: "acc_1", name: "one", email: null, now: 1 });
  expect(seen).toEqual(["InsertQueryNode", "its result"]);
  const changing: KyselyPlugin = {
    transformQuery: (args) => ({ ...args.node }),
    transformResult: async (args) => args.result,
  };
  await expect(insertAccount(db.withPlugin(changing), { id: "acc_2", name: "two", email: null, now: 2 })).rejects.toThrow(PreparedStatementError);
  expect(await db.selectFrom("accounts").select("id").orderBy("id").execute()).toEqual([{ id: "acc_0" }, { id: "acc_1" }]);
});
