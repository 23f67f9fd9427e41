import { expect, it } from "vitest";
import { cleanupsAfterEach } from "../../test/helpers/cleanups.js";
import { DIALECT, eventually, openFreshStore } from "../../test/helpers/hookline.js";
import { eventRow, instanceRow, webhookAccount } from "../../test/helpers/rows.js";
import { committerOptions, createCommitter } from "../db/committer.js";
import type { ClaimedInstance } from "../queue/claim.js";
import { createQueue } from "../queue/queue.js";
import { createClaimLoop } from "./claim-loop.js";
import { createHolds, type Slot } from "./holds.js";

const onCleanup = cleanupsAfterEach();

it(`[${DIALECT}] a claim takes what its action has room for; what it left behind waits, and once taken nothing does until new work is announced`, async () => {
  const store = await openFreshStore(onCleanup);
  const { accountId, actionId } = await webhookAccount(store.db, "claim-loop");
  await store.db.insertInto("events").values(eventRow("evt_1", accountId)).execute();
  const event = { id: "evt_1", accountId, actionId };
  await store.db
    .insertInto("instances")
    .values(["ins_1", "ins_2", "ins_3"].map((id) => instanceRow(id, event)))
    .execute();
  const committer = createCommitter(store.db, committerOptions(store, 10));
  const holds = createHolds({ perAction: 2, perAccount: 10, all: 10 }, () => loop.roomFreed());
  const taken: { instance: ClaimedInstance; slot: Slot }[] = [];
  let tokens = 0;
  const loop = createClaimLoop({
    queue: createQueue({ db: store.db, committer, lockClaims: false }),
    leaseMs: 60_000,
    pollIntervalMs: 60_000,
    holds,
    heldInstances: new Set(),
    records: { failed: (err) => expect.fail(String(err)), answered: () => {} },
    newToken: () => `test:${++tokens}`,
    start: (instance) => taken.push({ instance, slot: holds.take(instance.actionId, instance.accountId, instance.leaseToken) }),
    now: Date.now,
  });
  // Before any claim, all actions may have work waiting.
  expect(loop.nothingWaitsFor(actionId)).toBe(false);
  const stop = new AbortController();
  const running = loop.run(stop.signal);
  try {
    await eventually(async () => (taken.length === 2 ? true : undefined));
    expect(loop.nothingWaitsFor(actionId)).toBe(false);
    // Room frees while work waits: the loop wakes and claims it, without a poll (60 s here).
    taken[0]?.slot.release();
    await eventually(async () => (taken.length === 3 ? true : undefined), 5_000);
    expect(taken.map((t) => t.instance.id).sort()).toEqual(["ins_1", "ins_2", "ins_3"]);
    await eventually(async () => (loop.nothingWaitsFor(actionId) ? true : undefined), 5_000);
    loop.notify([actionId]);
    expect(loop.nothingWaitsFor(actionId)).toBe(false);
  } finally {
    stop.abort();
    await running;
    await committer.drain();
  }
});
