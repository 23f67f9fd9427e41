/** Retention: old finished deliveries are pruned with their attempts and events; unfinished ones never. */
import { expect, it } from "vitest";
import { createCommitter } from "../src/db/committer.js";
import { pruneOnce } from "../src/log/retention.js";
import { eventually, finishedInstance, startTestHookline } from "./helpers/hookline.js";
import { startReceiver } from "./helpers/receiver.js";

it("prunes finished instances, their attempts and orphaned events past the cutoff, and keeps unfinished ones", async () => {
  const h = await startTestHookline({ HOOKLINE_RETRY_SCHEDULE: "3600" }); // a retry waits an hour: stays unfinished
  const receiver = await startReceiver();
  try {
    const { client } = await h.account();
    const trigger = await client.createTrigger({ name: "t", type: "event.created" });
    const ok = await client.createAction(trigger.id, { name: "ok", type: "webhook", url: receiver.url("/ok") });
    const retrying = await client.createAction(trigger.id, { name: "503", type: "webhook", url: receiver.url("/503") });
    receiver.respond("/503", () => ({ status: 503 }));
    await client.createTrigger({ name: "no actions", type: "event.deleted" });
    await client.ingest({ type: "event.created", data: { event: { id: 1 } } });
    await client.ingest({ type: "event.deleted", data: { event: { id: 2 } } }); // no instances at all
    const done = await finishedInstance(client, ok.id);
    await eventually(async () => ((await client.log(retrying.id)).data[0]?.state === "retrying" ? true : undefined));

    const { db } = h.hookline.store;
    const pruned = await pruneOnce(createCommitter(db), Date.now() + 1000);
    expect(pruned).toEqual({ instances: 1, events: 1 });
    await expect(client.instance(done.id)).rejects.toMatchObject({ status: 404 });
    expect(await db.selectFrom("attempts").select("id").where("instance_id", "=", done.id).execute()).toEqual([]);
    // The retrying instance and the event it belongs to stay, however old.
    expect((await client.log(retrying.id)).data).toHaveLength(1);
    expect((await db.selectFrom("events").select("id").execute()).length).toBe(1);
  } finally {
    await h.stop();
    await receiver.close();
  }
});

it("prunes in the background once deliveries are older than HOOKLINE_RETENTION_DAYS", async () => {
  const h = await startTestHookline({ HOOKLINE_RETENTION_DAYS: "0.00001" }); // under a second
  const receiver = await startReceiver();
  try {
    const { client } = await h.account();
    const trigger = await client.createTrigger({ name: "t", type: "event.created" });
    const action = await client.createAction(trigger.id, { name: "ok", type: "webhook", url: receiver.url("/ok") });
    await client.ingest({ type: "event.created", data: { event: { id: 1 } } });
    await finishedInstance(client, action.id);
    await eventually(async () => ((await client.log(action.id)).data.length === 0 ? true : undefined), 10_000);
  } finally {
    await h.stop();
    await receiver.close();
  }
});

it("prunes skipped, canceled and suppressed instances past the cutoff, as finished ones, and keeps scheduled ones", async () => {
  const h = await startTestHookline();
  try {
    const { client } = await h.account();
    const trigger = await client.createTrigger({ name: "t", type: "event.created" });
    const url = "http://127.0.0.1:9/never";
    const skipped = await client.createAction(trigger.id, { name: "skip", type: "webhook", url, timing: { at: "event.start_time", offset: "-24h" } });
    const waiting = await client.createAction(trigger.id, { name: "wait", type: "webhook", url, timing: { at: null, offset: "1d" } });
    await client.ingest({ type: "event.created", data: { event: { id: 1, start_time: new Date(Date.now() + 3_600_000).toISOString() } } });
    expect((await client.log(skipped.id)).data[0]?.state).toBe("skipped");
    const pruned = await pruneOnce(createCommitter(h.hookline.store.db), Date.now() + 1000);
    expect(pruned).toEqual({ instances: 1, events: 0 });
    expect((await client.log(skipped.id)).data).toHaveLength(0);
    expect((await client.log(waiting.id)).data[0]?.state).toBe("scheduled");
    // A message its stop list held back is as finished as a delivered one.
    const { db } = h.hookline.store;
    await db.updateTable("instances").set({ state: "suppressed" }).where("action_id", "=", waiting.id).execute();
    expect(await pruneOnce(createCommitter(db), Date.now() + 1000)).toEqual({ instances: 1, events: 1 });
  } finally {
    await h.stop();
  }
});
