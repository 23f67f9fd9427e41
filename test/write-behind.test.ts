/**
 * Inserts written behind (src/db/write-behind.ts): the hot rows a committer transaction's units
 * insert are written together, many to a statement, once the units have run; before then they are
 * not there, and a write that fails at the end takes the whole transaction with it.
 */
import { expect, it, vi } from "vitest";
import { attemptRow, createAttemptRecorder } from "../src/attempts/attempts.js";
import { committerOptions, createCommitter } from "../src/db/committer.js";
import type { Store } from "../src/db/connect.js";
import type { Executor } from "../src/db/schema.js";
import { insertBehind, WRITE_BEHIND_LIMIT, writingBehind } from "../src/db/write-behind.js";
import { newId } from "../src/ids.js";
import { createIngest, validateEvent } from "../src/ingest/ingest.js";
import { cleanupsAfterEach } from "./helpers/cleanups.js";
import { DIALECT, openFreshStore } from "./helpers/hookline.js";
import { eventRow, instanceRow, webhookAccount } from "./helpers/rows.js";

const onCleanup = cleanupsAfterEach();

/** An account with one enabled webhook action on participant.confirmed. */
async function setUp(): Promise<{ store: Store; accountId: string; actionId: string }> {
  const store = await openFreshStore(onCleanup);
  return { store, ...(await webhookAccount(store.db, "write-behind")) };
}

const ids = (store: Store, table: "events" | "instances") =>
  store.db
    .selectFrom(table)
    .select("id")
    .orderBy("id")
    .execute()
    .then((rows) => rows.map((r) => r.id));

it(`[${DIALECT}] rows inserted behind are not there while the work runs, then are written table by table, an event before its instances`, async () => {
  const { store, accountId, actionId } = await setUp();
  await store.db.transaction().execute((trx) =>
    writingBehind(trx, async (t) => {
      const statements = vi.spyOn(t, "executeQuery");
      await insertBehind(t, "events", [eventRow("evt_1", accountId)]);
      await insertBehind(t, "instances", [
        instanceRow("ins_1", { id: "evt_1", accountId, actionId }),
        instanceRow("ins_2", { id: "evt_1", accountId, actionId }),
      ]);
      await insertBehind(t, "events", [eventRow("evt_2", accountId)]);
      await insertBehind(t, "instances", [instanceRow("ins_3", { id: "evt_2", accountId, actionId })]);
      expect(statements).not.toHaveBeenCalled();
      expect(await t.selectFrom("events").select("id").execute()).toEqual([]);
      statements.mockRestore();
    }),
  );
  expect(await ids(store, "events")).toEqual(["evt_1", "evt_2"]);
  expect(await ids(store, "instances")).toEqual(["ins_1", "ins_2", "ins_3"]);
});

it(`[${DIALECT}] outside writingBehind a row is inserted at once`, async () => {
  const { store, accountId } = await setUp();
  await store.db.transaction().execute(async (trx) => {
    await insertBehind(trx, "events", [eventRow("evt_1", accountId)]);
    expect(await trx.selectFrom("events").select("id").execute()).toEqual([{ id: "evt_1" }]);
  });
});

it(`[${DIALECT}] a write that fails at the end fails the whole transaction: none of its rows stays`, async () => {
  const { store, accountId, actionId } = await setUp();
  const failed = store.db.transaction().execute((trx) =>
    writingBehind(trx, async (t) => {
      await insertBehind(t, "events", [eventRow("evt_1", accountId)]);
      // Its event does not exist: the foreign key refuses it when the rows are written.
      await insertBehind(t, "instances", [instanceRow("ins_1", { id: "evt_missing", accountId, actionId })]);
    }),
  );
  await expect(failed).rejects.toThrow();
  expect(await ids(store, "events")).toEqual([]);
  expect(await ids(store, "instances")).toEqual([]);
});

it(`[${DIALECT}] two events with one idempotency key in one shared commit are stored once; the second is answered as a duplicate of the first`, async () => {
  const { store, accountId } = await setUp();
  const ingest = createIngest(createCommitter(store.db, committerOptions(store, 10)), { newId, now: Date.now, onInstances: () => {} });
  const event = (id: number) => validateEvent({ type: "participant.confirmed", data: { participant: { id } }, idempotency_key: "once" });
  // Same tick: one shared transaction, where neither finds the other until its rows are written.
  const [[first], [second]] = await Promise.all([ingest(accountId, [event(1)]), ingest(accountId, [event(1)])]);
  expect(first).toEqual({ id: expect.any(String), instances: 1, duplicate: false });
  expect(second).toEqual({ id: first?.id, instances: 1, duplicate: true });
  expect(await ids(store, "events")).toEqual([first?.id]);
  expect(await ids(store, "instances")).toHaveLength(1);
});

it(`[${DIALECT}] of two events with one idempotency key and different data in one shared commit, the second is refused as a conflict; its neighbour is stored`, async () => {
  const { store, accountId } = await setUp();
  const ingest = createIngest(createCommitter(store.db, committerOptions(store, 10)), { newId, now: Date.now, onInstances: () => {} });
  const event = (id: number, key?: string) =>
    validateEvent({ type: "participant.confirmed", data: { participant: { id } }, ...(key && { idempotency_key: key }) });
  // Same tick: one shared transaction, where neither finds the other until its rows are written.
  const [first, second, neighbour] = await Promise.allSettled([
    ingest(accountId, [event(1, "once")]),
    ingest(accountId, [event(2, "once")]),
    ingest(accountId, [event(3)]),
  ]);
  if (first.status !== "fulfilled" || neighbour.status !== "fulfilled") throw new Error("the first event and its neighbour should be stored");
  expect(second).toMatchObject({ status: "rejected", reason: { status: 409, code: "idempotency_conflict" } });
  expect(second.status === "rejected" && String(second.reason.message)).toContain(first.value[0]?.id);
  expect((await ids(store, "events")).sort()).toEqual([first.value[0]?.id, neighbour.value[0]?.id].sort());
});

it(`[${DIALECT}] the records of one shared commit are written together; one whose lease was lost is only logged and counted, and its neighbours are recorded`, async () => {
  const { store, accountId, actionId } = await setUp();
  await store.db.insertInto("events").values(eventRow("evt_1", accountId)).execute();
  const leased = (id: string, token: string) => instanceRow(id, { id: "evt_1", accountId, actionId }, { lease_until: Date.now() + 60_000, lease_token: token });
  await store.db
    .insertInto("instances")
    .values([leased("ins_1", "t1"), leased("ins_2", "t2"), leased("ins_3", "t3")])
    .execute();
  const record = createAttemptRecorder(createCommitter(store.db, committerOptions(store, 10)), { newId });
  const at = Date.now();
  const recordOf = (id: string, token: string, state: "succeeded" | "failed") =>
    record({
      completion: {
        instanceId: id,
        actionId,
        leaseToken: token,
        state,
        sent: true,
        delivered: state === "succeeded",
        nextAttemptAt: at,
        status: 200,
        error: null,
        reason: null,
        now: at,
      },
      attempt: attemptRow(
        { id, accountId, series: 1, seriesAttempts: 0 },
        {
          request: {},
          response: { status: 200, headers: {}, body: "", truncated: false },
          startedAt: at,
          durationMs: 1,
        },
        state,
      ),
    });
  // Same tick: one shared transaction. ins_2 is recorded under a token that no longer holds it (another worker's claim took it).
  expect(await Promise.all([recordOf("ins_1", "t1", "succeeded"), recordOf("ins_2", "stale", "succeeded"), recordOf("ins_3", "t3", "failed")])).toEqual([
    true,
    false,
    true,
  ]);
  const rows = await store.db.selectFrom("instances").select(["id", "state", "attempts", "lease_token"]).orderBy("id").execute();
  expect(rows).toEqual([
    { id: "ins_1", state: "succeeded", attempts: 1, lease_token: null },
    // Its attempt was made (a receiver saw it), but the instance is the newer claim's to record.
    { id: "ins_2", state: "pending", attempts: 1, lease_token: "t2" },
    { id: "ins_3", state: "failed", attempts: 1, lease_token: null },
  ]);
  const attempts = await store.db.selectFrom("attempts").select(["instance_id", "outcome"]).orderBy("instance_id").execute();
  expect(attempts).toEqual([
    { instance_id: "ins_1", outcome: "succeeded" },
    { instance_id: "ins_2", outcome: "succeeded" },
    { instance_id: "ins_3", outcome: "failed" },
  ]);
  // The last word for the action was a final failure: its failing spell has begun.
  const action = await store.db.selectFrom("actions").select("failing_since").executeTakeFirstOrThrow();
  expect(Number(action.failing_since)).toBe(at);
});

it(`[${DIALECT}] a transaction that gathers ${WRITE_BEHIND_LIMIT} rows writes them then and gathers afresh, still events before their instances`, async () => {
  const { store, accountId, actionId } = await setUp();
  const count = (t: Executor, table: "events" | "instances") =>
    t
      .selectFrom(table)
      .select((eb) => eb.fn.countAll<number>().as("n"))
      .executeTakeFirstOrThrow()
      .then((r) => Number(r.n));
  await store.db.transaction().execute((trx) =>
    writingBehind(trx, async (t) => {
      const events = Array.from({ length: WRITE_BEHIND_LIMIT - 1 }, (_, i) => eventRow(`evt_${String(i).padStart(4, "0")}`, accountId));
      await insertBehind(t, "events", events);
      expect(await count(t, "events")).toBe(0);
      // A unit's event reaches the limit: everything so far is written.
      await insertBehind(t, "events", [eventRow("evt_a", accountId)]);
      expect(await count(t, "events")).toBe(WRITE_BEHIND_LIMIT);
      // Its instance then waits first in line, ahead of the next unit's event and instance: written
      // in arrival order, that instance would come before its event, which its foreign key refuses.
      await insertBehind(t, "instances", [instanceRow("ins_a", { id: "evt_a", accountId, actionId })]);
      await insertBehind(t, "events", [eventRow("evt_b", accountId)]);
      await insertBehind(t, "instances", [instanceRow("ins_b", { id: "evt_b", accountId, actionId })]);
      expect(await count(t, "instances")).toBe(0);
    }),
  );
  expect(await count(store.db, "events")).toBe(WRITE_BEHIND_LIMIT + 1);
  expect(await ids(store, "instances")).toEqual(["ins_a", "ins_b"]);
});
