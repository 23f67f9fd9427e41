/**
 * The delivery queue (src/queue): an instance offered in a unit, claimed under a lease with what its
 * attempt needs, its lease renewed or given back, and its completion taken only under its own lease.
 * On both dialects: these are the hot statements of delivery.
 */
import { expect, it } from "vitest";
import { committerOptions, createCommitter } from "../src/db/committer.js";
import type { Store } from "../src/db/connect.js";
import { type Completion, completeAttempts } from "../src/queue/complete.js";
import { offer } from "../src/queue/offer.js";
import { createQueue } from "../src/queue/queue.js";
import { cleanupsAfterEach } from "./helpers/cleanups.js";
import { DIALECT, openFreshStore } from "./helpers/hookline.js";
import { eventRow, instanceRow, webhookAccount } from "./helpers/rows.js";

const onCleanup = cleanupsAfterEach();

async function setUp(): Promise<{
  store: Store;
  queue: ReturnType<typeof createQueue>;
  committer: ReturnType<typeof createCommitter>;
  event: { id: string; accountId: string; actionId: string };
}> {
  const store = await openFreshStore(onCleanup);
  const { accountId, actionId } = await webhookAccount(store.db, "queue");
  await store.db.insertInto("events").values(eventRow("evt_1", accountId)).execute();
  const committer = createCommitter(store.db, committerOptions(store, 10));
  onCleanup(() => committer.drain());
  const queue = createQueue({ db: store.db, committer, lockClaims: store.dialect === "postgres" });
  return { store, queue, committer, event: { id: "evt_1", accountId, actionId } };
}

const claimQuery = (now: number, token: string, limit = 10) => ({ now, leaseMs: 1_000, limit, room: () => 10, saturated: [], token });

const leaseOf = (store: Store, id: string) =>
  store.db.selectFrom("instances").select(["lease_token", "lease_until", "next_attempt_at"]).where("id", "=", id).executeTakeFirstOrThrow();

it(`[${DIALECT}] an instance offered in a unit is claimed under the claim's lease, with its action's settings and its event's object`, async () => {
  const { store, queue, committer, event } = await setUp();
  await committer.run((trx) => offer(trx, [instanceRow("ins_1", event)]));
  const now = Date.now();
  const { claimed, more } = await queue.claim(claimQuery(now, "claim-1"));
  expect(more).toBe(false);
  expect(claimed).toHaveLength(1);
  expect(claimed[0]).toMatchObject({ id: "ins_1", actionId: event.actionId, actionType: "webhook", object: "{}", leaseToken: "claim-1", seriesAttempts: 0 });
  expect(claimed[0]?.settings).toEqual(expect.any(String));
  expect(await leaseOf(store, "ins_1")).toEqual({ lease_token: "claim-1", lease_until: now + 1_000, next_attempt_at: now + 1_000 });
  // Leased: the next claim does not take it, and the queue's next due time is the lease's end.
  expect((await queue.claim(claimQuery(now, "claim-2"))).claimed).toEqual([]);
  expect(await queue.nextDueAt()).toBe(now + 1_000);
});

it(`[${DIALECT}] a claim takes no more than its limit and the action's room, and says which actions it left behind`, async () => {
  const { store, queue, event } = await setUp();
  await store.db
    .insertInto("instances")
    .values(["ins_1", "ins_2", "ins_3"].map((id, i) => instanceRow(id, event, { next_attempt_at: i + 1 })))
    .execute();
  const result = await queue.claim({ ...claimQuery(Date.now(), "claim-1"), room: () => 2 });
  expect(result.claimed.map((c) => c.id)).toEqual(["ins_1", "ins_2"]);
  expect(result.leftBehind).toEqual([event.actionId]);
  expect(result.actionsDue).toEqual([event.actionId]);
  // An instance the worker holds already is never claimed again by it, even with its lease run out.
  const later = await queue.claim({ ...claimQuery(Date.now() + 5_000, "claim-2"), holding: new Set(["ins_1"]) });
  expect(later.claimed.map((c) => c.id).sort()).toEqual(["ins_2", "ins_3"]);
});

it(`[${DIALECT}] renewing moves only the leases of the claims named; a release gives the instance back due at once, and only under its own lease`, async () => {
  const { store, queue, event } = await setUp();
  await store.db
    .insertInto("instances")
    .values([instanceRow("ins_1", event), instanceRow("ins_2", event)])
    .execute();
  const now = Date.now();
  await queue.claim(claimQuery(now, "claim-1", 1));
  await queue.claim(claimQuery(now, "claim-2", 1));
  expect(await queue.renew(["claim-1"], now + 9_000)).toBe(1);
  expect((await leaseOf(store, "ins_1")).lease_until).toBe(now + 9_000);
  expect((await leaseOf(store, "ins_2")).lease_until).toBe(now + 1_000);

  await queue.release({ id: "ins_1", leaseToken: "claim-2" }, now);
  expect((await leaseOf(store, "ins_1")).lease_token).toBe("claim-1");
  await queue.release({ id: "ins_1", leaseToken: "claim-1" }, now + 1);
  expect(await leaseOf(store, "ins_1")).toEqual({ lease_token: null, lease_until: null, next_attempt_at: now + 1 });
  expect(await queue.renew([], now + 9_000)).toBe(0);
});

it(`[${DIALECT}] a completion takes effect only under the lease it names, and frees that lease`, async () => {
  const { store, queue, committer, event } = await setUp();
  await store.db.insertInto("instances").values(instanceRow("ins_1", event)).execute();
  const now = Date.now();
  await queue.claim(claimQuery(now, "claim-1"));
  const completion = (leaseToken: string): Completion => ({
    instanceId: "ins_1",
    actionId: event.actionId,
    leaseToken,
    state: "succeeded",
    sent: true,
    delivered: true,
    nextAttemptAt: now,
    status: 200,
    error: null,
    reason: null,
    now,
  });
  expect([...(await committer.run((trx) => completeAttempts(trx, [completion("claim-lost")])))]).toEqual([]);
  expect([...(await committer.run((trx) => completeAttempts(trx, [completion("claim-1")])))]).toEqual(["ins_1"]);
  const row = await store.db
    .selectFrom("instances")
    .select(["state", "attempts", "sent", "delivered", "lease_token"])
    .where("id", "=", "ins_1")
    .executeTakeFirstOrThrow();
  expect(row).toEqual({ state: "succeeded", attempts: 1, sent: 1, delivered: 1, lease_token: null });
});
