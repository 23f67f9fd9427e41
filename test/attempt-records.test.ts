/**
 * An attempt's record needs its commit visible, not yet on disk: the worker goes on while the WAL's
 * fsync is still out (SQLite only: PostgreSQL's commits are durable when they return). If the
 * machine loses that commit, the instance is still leased in what the disk holds, and is attempted
 * again when the lease ends (attempts.ts).
 */
import fs from "node:fs";
import path from "node:path";
import { expect, it } from "vitest";
import { attemptRow, createAttemptRecorder } from "../src/attempts/attempts.js";
import { createCommitter } from "../src/db/committer.js";
import { migrate } from "../src/db/connect.js";
import { openSqlite } from "../src/db/sqlite.js";
import { createWalSync } from "../src/db/wal-sync.js";
import type { AttemptResult } from "../src/deliver/sender.js";
import { newId } from "../src/ids.js";
import { createIngest, validateEvent } from "../src/ingest/ingest.js";
import { claimDue } from "../src/queue/claim.js";
import { cleanupsAfterEach } from "./helpers/cleanups.js";
import { tempDir } from "./helpers/hookline.js";
import { webhookAccount } from "./helpers/rows.js";

const onCleanup = cleanupsAfterEach();

it("records an attempt once its commit is visible, while the WAL's fsync is still out", async () => {
  // A disk that answers only when the test lets it.
  let hold = false;
  const held: (() => void)[] = [];
  const dir = tempDir();
  const { db, durability, close } = openSqlite(path.join(dir, "hookline.db"), {
    walSync: (walPath) => {
      const real = createWalSync(walPath);
      return {
        sync: () => (hold ? new Promise<void>((resolve) => held.push(resolve)).then(() => real.sync()) : real.sync()),
        close: () => real.close(),
      };
    },
  });
  onCleanup(async () => {
    hold = false;
    for (const resolve of held.splice(0)) resolve();
    await close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  await migrate(db);
  const committer = createCommitter(db, durability ? { durability } : {});
  const deps = { newId, now: Date.now };
  const { accountId } = await webhookAccount(db, "records");
  await createIngest(committer, { ...deps, onInstances: () => {} })(accountId, [
    validateEvent({ type: "participant.confirmed", data: { participant: { id: 1 } } }),
  ]);

  hold = true;
  const { claimed } = await committer.run(
    (trx) => claimDue(trx, { now: Date.now(), leaseMs: 60_000, limit: 1, room: () => 1, saturated: [], token: "claim-1" }),
    { durable: false },
  );
  const instance = claimed[0];
  if (!instance) throw new Error("nothing claimed");
  const at = Date.now();
  const result: AttemptResult = {
    outcome: { kind: "success" },
    sent: true,
    confirmsDelivery: true,
    request: { method: "POST", url: "http://127.0.0.1:9/never-called", headers: {} },
    response: { status: 200, headers: {}, body: "", truncated: false },
    startedAt: at,
    durationMs: 1,
  };
  const recording = createAttemptRecorder(committer, { newId })({
    completion: {
      instanceId: instance.id,
      actionId: instance.actionId,
      leaseToken: instance.leaseToken,
      state: "succeeded",
      sent: true,
      delivered: true,
      nextAttemptAt: at,
      status: 200,
      error: null,
      reason: null,
      now: at,
    },
    attempt: attemptRow(instance, result, "succeeded"),
  });
  const outcome = await Promise.race([recording, new Promise((resolve) => setTimeout(() => resolve("waited for the disk"), 3_000))]);
  expect(outcome).toBe(true);
  const row = await db.selectFrom("instances").select(["state", "lease_token"]).where("id", "=", instance.id).executeTakeFirstOrThrow();
  expect(row).toEqual({ state: "succeeded", lease_token: null });
  expect(await db.selectFrom("attempts").select("outcome").where("instance_id", "=", instance.id).execute()).toEqual([{ outcome: "succeeded" }]);
});
