/**
 * Reads shared by the units of a group commit (db/per-transaction.ts): what an attempt needs of its
 * action (queue/claim.ts `sendingReader`) and the actions an event fires (match.ts
 * `findFiredActions`) are read once per key per transaction, and afresh outside a transaction.
 */
import { expect, it, vi } from "vitest";
import { createCommitter } from "../src/db/committer.js";
import type { Store } from "../src/db/connect.js";
import type { Executor } from "../src/db/schema.js";
import { ConditionsSchema } from "../src/match/conditions.js";
import { findFiredActions } from "../src/match/match.js";
import { sendingReader } from "../src/queue/claim.js";
import { type Completion, completeAttempts } from "../src/queue/complete.js";
import type { updateTrigger } from "../src/triggers/triggers.js";
import { cleanupsAfterEach } from "./helpers/cleanups.js";
import { DIALECT, openFreshStore } from "./helpers/hookline.js";
import { eventRow, instanceRow } from "./helpers/rows.js";

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
      previous_secrets: "[]",
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
    expect(await findFiredActions(trx, "acc_1", "participant.confirmed", {})).toEqual(fired);
    expect(await findFiredActions(trx, "acc_1", "participant.confirmed", {})).toEqual(fired);
    expect(queries).toHaveBeenCalledTimes(1);
    // Another type, or another account, is another read.
    expect(await findFiredActions(trx, "acc_1", "event.created", {})).toEqual([]);
    expect(await findFiredActions(trx, "acc_2", "participant.confirmed", {})).toEqual([]);
    expect(queries).toHaveBeenCalledTimes(3);
  });
  expect(await findFiredActions(db, "acc_1", "participant.confirmed", {})).toEqual(fired);
  await db.updateTable("actions").set({ enabled: 0 }).where("id", "=", "act_1").execute();
  expect(await findFiredActions(db, "acc_1", "participant.confirmed", {})).toEqual([]);
  await db.transaction().execute(async (trx) => expect(await findFiredActions(trx, "acc_1", "participant.confirmed", {})).toEqual([]));
});

it(`[${DIALECT}] a trigger's conditions are read with its actions once per transaction, compiled once per text, and tested per event`, async () => {
  const { db } = await storeWithAction();
  const conditions = { all: [{ field: "participant.event.calendar_id", op: "eq", value: 310 }] };
  await db
    .updateTable("triggers")
    .set({ type: "participant.confirmed", conditions: JSON.stringify(conditions) })
    .execute();
  const fired = [{ actionId: "act_1", actionType: "webhook", triggerType: "participant.confirmed" }];
  const of = (calendar_id: number) => ({ participant: { id: 1, event: { id: 2, calendar_id } } });
  const parses = vi.spyOn(ConditionsSchema, "parse");
  for (const _ of [1, 2]) {
    await db.transaction().execute(async (trx) => {
      const queries = vi.spyOn(trx, "executeQuery");
      expect(await findFiredActions(trx, "acc_1", "participant.confirmed", of(310))).toMatchObject(fired);
      expect(await findFiredActions(trx, "acc_1", "participant.confirmed", of(311))).toEqual([]);
      expect(queries).toHaveBeenCalledTimes(1);
    });
  }
  // The second transaction read the same text: compiled by the first.
  expect(parses).toHaveBeenCalledTimes(1);
  parses.mockRestore();
});

/** Instances of act_1 leased under token "t", ready to be completed. */
async function leasedInstances(store: Store, ids: string[]): Promise<void> {
  await store.db
    .insertInto("events")
    .values(eventRow("evt_1", "acc_1", "appointment.created"))
    .execute();
  const event = { id: "evt_1", accountId: "acc_1", actionId: "act_1", type: "appointment.created", objectKey: "appointment" };
  for (const id of ids)
    await store.db
      .insertInto("instances")
      .values(instanceRow(id, event, { lease_until: 100, lease_token: "t" }))
      .execute();
}

/** One completion on its own: true when this worker still held the instance. */
const completeAttempt = async (db: Executor, c: Completion) => (await completeAttempts(db, [c])).has(c.instanceId);

const completion = (instanceId: string, state: "succeeded" | "failed", now: number): Completion => ({
  instanceId,
  actionId: "act_1",
  leaseToken: "t",
  state,
  sent: true,
  delivered: state === "succeeded",
  nextAttemptAt: now,
  status: state === "succeeded" ? 200 : 400,
  error: state === "succeeded" ? null : "HTTP 400",
  reason: null,
  now,
});

const failingSince = (store: Store) =>
  store.db
    .selectFrom("actions")
    .select("failing_since")
    .where("id", "=", "act_1")
    .executeTakeFirstOrThrow()
    .then((r) => r.failing_since);

it(`[${DIALECT}] one transaction ends an action's failing spell once for all its successes; a failure between them starts it again`, async () => {
  const store = await storeWithAction();
  await leasedInstances(store, ["ins_1", "ins_2", "ins_3", "ins_4", "ins_5"]);
  await store.db.updateTable("actions").set({ failing_since: 5 }).execute();
  await store.db.transaction().execute(async (trx) => {
    const queries = vi.spyOn(trx, "executeQuery");
    // Two successes: the first ends the spell; the second has none to end (2 statements + 1).
    expect(await completeAttempt(trx, completion("ins_1", "succeeded", 10))).toBe(true);
    expect(await completeAttempt(trx, completion("ins_2", "succeeded", 11))).toBe(true);
    expect(queries).toHaveBeenCalledTimes(3);
    // A final failure starts a new spell, and the success after it ends that one.
    expect(await completeAttempt(trx, completion("ins_3", "failed", 12))).toBe(true);
    expect(await completeAttempt(trx, completion("ins_4", "succeeded", 13))).toBe(true);
    expect(queries).toHaveBeenCalledTimes(7);
  });
  expect(await failingSince(store)).toBeNull();
  // The last word in a transaction is a failure: the spell it started stays.
  await store.db.transaction().execute(async (trx) => {
    expect(await completeAttempt(trx, completion("ins_5", "failed", 20))).toBe(true);
  });
  expect(Number(await failingSince(store))).toBe(20);
});

it(`[${DIALECT}] a committer unit cannot write triggers or actions, whose reads its transaction shares; its one write to actions, the failing spell, leaves that read right`, async () => {
  const store = await storeWithAction();
  await leasedInstances(store, ["ins_1"]);
  const committer = createCommitter(store.db);
  const seen = await committer.run(async (trx) => {
    const shared = await sendingReader(trx)("act_1");
    expect(await completeAttempt(trx, completion("ins_1", "failed", 10))).toBe(true);
    // The compiler refuses every other write of these tables in a unit (schema.ts `Executor`):
    // @ts-expect-error a unit cannot update actions,
    trx.updateTable("actions");
    // @ts-expect-error nor insert triggers,
    trx.insertInto("triggers");
    // @ts-expect-error nor delete actions,
    trx.deleteFrom("actions");
    // @ts-expect-error nor hand its transaction to the API's functions that write them.
    const handedOver: Parameters<typeof updateTrigger>[0] = trx;
    void handedOver;
    const fresh = await trx
      .selectFrom("actions")
      .select(["settings", "secret", "previous_secrets as previousSecrets", "failing_since"])
      .where("id", "=", "act_1")
      .executeTakeFirstOrThrow();
    return { shared, again: await sendingReader(trx)("act_1"), fresh };
  });
  expect(seen.again).toBe(seen.shared);
  expect(seen.fresh).toEqual({ ...seen.shared, failing_since: 10 });
  expect(Number(await failingSince(store))).toBe(10);
});
