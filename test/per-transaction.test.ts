/**
 * Reads shared by the units of a group commit (db/per-transaction.ts): what an attempt needs of its
 * action (instances.ts `sendingReader`) and the actions an event fires (match.ts
 * `findFiredActions`) are read once per key per transaction, and afresh outside a transaction.
 */
import { expect, it, vi } from "vitest";
import type { Store } from "../src/db/connect.js";
import { sendingReader } from "../src/instances/instances.js";
import { findFiredActions } from "../src/match/match.js";
import { cleanupsAfterEach } from "./helpers/cleanups.js";
import { DIALECT, openFreshStore } from "./helpers/hookline.js";

const onCleanup = cleanupsAfterEach();

async function storeWithAction(): Promise<Store> {
  const store = await openFreshStore(onCleanup);
  const { db } = store;
  await db.insertInto("accounts").values({ id: "acc_1", name: "a", notification_email: null, created_at: 1 }).execute();
  await db
    .insertInto("triggers")
    .values({ id: "trg_1", account_id: "acc_1", name: "t", type: "appointment.created", description: null, enabled: 1, created_at: 1, updated_at: 1 })
    .execute();
  await db
    .insertInto("actions")
    .values({
      id: "act_1",
      account_id: "acc_1",
      trigger_id: "trg_1",
      name: "a",
      type: "webhook",
      enabled: 1,
      settings: "s1",
      secret: "k1",
      previous_secret: null,
      previous_secret_until: null,
      failing_since: null,
      failing_notified_at: null,
      created_at: 1,
      updated_at: 1,
    })
    .execute();
  return store;
}

it(`[${DIALECT}] one transaction reads an action once for all its units; outside one, every reader reads afresh`, async () => {
  const { db } = await storeWithAction();
  await db.transaction().execute(async (trx) => {
    const queries = vi.spyOn(trx, "executeQuery");
    // Two units of one group commit, each asking with its own reader.
    expect((await sendingReader(trx)("act_1")).settings).toBe("s1");
    expect((await sendingReader(trx)("act_1")).settings).toBe("s1");
    expect(queries).toHaveBeenCalledTimes(1);
  });
  expect((await sendingReader(db)("act_1")).settings).toBe("s1");
  await db.updateTable("actions").set({ settings: "s2" }).where("id", "=", "act_1").execute();
  expect((await sendingReader(db)("act_1")).settings).toBe("s2");
  await db.transaction().execute(async (trx) => expect((await sendingReader(trx)("act_1")).settings).toBe("s2"));
});

it(`[${DIALECT}] one transaction matches an account's events of a type once for all its units; outside one, afresh`, async () => {
  const { db } = await storeWithAction();
  // A specific state fires its "(any state)" trigger too.
  await db.updateTable("triggers").set({ type: "participant.reminder_state_changed" }).execute();
  const fired = [{ actionId: "act_1", actionType: "webhook", triggerType: "participant.reminder_state_changed" }];
  await db.transaction().execute(async (trx) => {
    const queries = vi.spyOn(trx, "executeQuery");
    expect(await findFiredActions(trx, "acc_1", "participant.confirmed")).toEqual(fired);
    expect(await findFiredActions(trx, "acc_1", "participant.confirmed")).toEqual(fired);
    expect(queries).toHaveBeenCalledTimes(1);
    // Another type, or another account, is another read.
    expect(await findFiredActions(trx, "acc_1", "event.created")).toEqual([]);
    expect(await findFiredActions(trx, "acc_2", "participant.confirmed")).toEqual([]);
    expect(queries).toHaveBeenCalledTimes(3);
  });
  expect(await findFiredActions(db, "acc_1", "participant.confirmed")).toEqual(fired);
  await db.updateTable("actions").set({ enabled: 0 }).where("id", "=", "act_1").execute();
  expect(await findFiredActions(db, "acc_1", "participant.confirmed")).toEqual([]);
  await db.transaction().execute(async (trx) => expect(await findFiredActions(trx, "acc_1", "participant.confirmed")).toEqual([]));
});
