/** Graceful shutdown: stop claiming, finish or release work in flight, close the database. */

import fs from "node:fs";
import Database from "better-sqlite3";
import { expect, it } from "vitest";
import { triggerType } from "../src/catalogue/trigger-types.js";
import { startTestHookline } from "./helpers/hookline.js";
import { startReceiver } from "./helpers/receiver.js";

it("on stop, an attempt that outlives the grace period is released untouched, to be attempted again", async () => {
  const h = await startTestHookline({ HOOKLINE_REQUEST_TIMEOUT: "30", HOOKLINE_SHUTDOWN_GRACE: "0.3" });
  const receiver = await startReceiver();
  receiver.respond("/hang", () => undefined);
  const { client } = await h.account();
  const trigger = await client.createTrigger({ name: "t", type: "event.created" });
  const action = await client.createAction(trigger.id, { name: "a", type: "webhook", url: receiver.url("/hang") });
  await client.ingest({ type: "event.created", data: triggerType("event.created").example as Record<string, unknown> });
  await receiver.waitFor(1, "/hang");
  expect(h.hookline.worker?.inFlight()).toBe(1);

  const file = `${h.dataDir}/hookline.db`;
  const started = Date.now();
  await h.hookline.stop();
  expect(Date.now() - started).toBeLessThan(5_000); // bounded by the grace period, not the 30 s timeout
  const db = new Database(file, { readonly: true });
  const row = db.prepare("select state, attempts, lease_until from instances where action_id = ?").get(action.id);
  db.close();
  expect(row).toEqual({ state: "pending", attempts: 0, lease_until: null });
  await receiver.close();
  fs.rmSync(h.dataDir, { recursive: true, force: true });
});

it("on stop, attempts in flight within the grace period finish and are recorded", async () => {
  const h = await startTestHookline();
  const receiver = await startReceiver();
  receiver.respond("/slow", (_r, res) => {
    setTimeout(() => res.writeHead(200).end("ok"), 300);
    return undefined;
  });
  const { client } = await h.account();
  const trigger = await client.createTrigger({ name: "t", type: "event.created" });
  const action = await client.createAction(trigger.id, { name: "a", type: "webhook", url: receiver.url("/slow") });
  await client.ingest({ type: "event.created", data: triggerType("event.created").example as Record<string, unknown> });
  await receiver.waitFor(1, "/slow");
  const file = `${h.dataDir}/hookline.db`;
  await h.hookline.stop();
  const db = new Database(file, { readonly: true });
  const row = db.prepare("select state, attempts from instances where action_id = ?").get(action.id);
  db.close();
  expect(row).toEqual({ state: "succeeded", attempts: 1 });
  await receiver.close();
  fs.rmSync(h.dataDir, { recursive: true, force: true });
});
