import type { KyselyPlugin, PluginTransformQueryArgs, PluginTransformResultArgs, QueryResult, UnknownRow } from "kysely";
import { expect, it } from "vitest";
import { type AttemptRecorder, createAttemptRecorder } from "../src/attempts/attempts.js";
import { committerOptions, createCommitter } from "../src/db/committer.js";
import type { Store } from "../src/db/connect.js";
import type { AttemptResult, Sender } from "../src/deliver/sender.js";
import { createWorker, type Worker } from "../src/deliver/worker.js";
import { newId } from "../src/ids.js";
import { createIngest, validateEvent } from "../src/ingest/ingest.js";
import { createLogger } from "../src/logger.js";
import { createQueue } from "../src/queue/queue.js";
import { cleanupsAfterEach } from "./helpers/cleanups.js";
import { DIALECT, eventually, openFreshStore } from "./helpers/hookline.js";
import { webhookAccount } from "./helpers/rows.js";

const LEASE_MS = 300;
const onCleanup = cleanupsAfterEach();

/** A database with one account, one trigger and one webhook action, and a function that ingests events for it. */
async function setUp(): Promise<{ store: Store; ingest: (n: number) => Promise<void>; actionId: string; accountId: string }> {
  const store = await openFreshStore(onCleanup);
  const deps = { newId, now: Date.now };
  const { accountId, actionId } = await webhookAccount(store.db, "leases");
  const ingest = createIngest(createCommitter(store.db, committerOptions(store, 10)), { ...deps, onInstances: () => {} });
  return {
    store,
    actionId,
    accountId,
    ingest: async (n) => {
      await ingest(
        accountId,
        Array.from({ length: n }, (_, i) => validateEvent({ type: "participant.confirmed", data: { participant: { id: i + 1 } } })),
      );
    },
  };
}

/** A sender that succeeds after `ms`, counting how often each instance was attempted. */
function slowSender(ms: number): Sender & { calls: Map<string, number> } {
  const calls = new Map<string, number>();
  return {
    calls,
    async send(instance) {
      calls.set(instance.id, (calls.get(instance.id) ?? 0) + 1);
      const startedAt = Date.now();
      await new Promise((r) => setTimeout(r, ms));
      const result: AttemptResult = {
        outcome: { kind: "success" },
        sent: true,
        confirmsDelivery: true,
        request: {},
        response: { status: 200, headers: {}, body: "", truncated: false },
        startedAt,
        durationMs: Date.now() - startedAt,
      };
      return result;
    },
  };
}

function startWorker(
  store: Store,
  sender: Sender,
  recorder?: (inner: AttemptRecorder) => AttemptRecorder,
  {
    db = store.db,
    perEndpointConcurrency = 16,
    concurrency = 16,
    pollIntervalMs = 50,
    backoffMs = 50,
    shutdownGraceMs = 5_000,
  }: { db?: Store["db"]; perEndpointConcurrency?: number; concurrency?: number; pollIntervalMs?: number; backoffMs?: number; shutdownGraceMs?: number } = {},
) {
  // Set up as the server's (openStore's default pool of 10): on SQLite its committer waits for the
  // WAL's fsync itself, so lease renewals never wait for the disk. A committer without that waits
  // for each fsync before its next transaction, and on a loaded machine a slow fsync can hold a
  // renewal back past the short lease, letting the second worker take the instance.
  const committer = createCommitter(db, committerOptions(store, 10));
  const record = createAttemptRecorder(committer, { newId });
  const worker = createWorker({
    queue: createQueue({ db, committer, lockClaims: store.dialect === "postgres" }),
    committer,
    senders: { webhook: sender, sms: sender, email: sender },
    recorder: recorder ? recorder(record) : record,
    policy: { maxAttempts: 5, backoff: () => backoffMs, maxRetryAfterMs: 0 },
    logger: createLogger("silent"),
    concurrency,
    perEndpointConcurrency,
    leaseMs: LEASE_MS,
    pollIntervalMs,
    shutdownGraceMs,
  });
  const stop = new AbortController();
  const done = worker.run(stop.signal);
  const shutDown = () => {
    stop.abort();
    return done;
  };
  onCleanup(shutDown);
  return Object.assign(worker, { shutDown });
}

async function allSucceeded(store: Store, n: number) {
  return eventually(async () => {
    const rows = await store.db.selectFrom("instances").select(["state", "attempts", "lease_until", "lease_token"]).execute();
    return rows.length === n && rows.every((r) => r.state === "succeeded") ? rows : undefined;
  });
}

/** Participant 1's first attempt fails at once, for now (a 503: retried after the backoff); every other goes to `then`. */
function failingFirstOf1(then: Sender): Sender {
  let failedOnce = false;
  return {
    async send(instance, signal) {
      if ((JSON.parse(instance.object) as { id: number }).id === 1 && !failedOnce) {
        failedOnce = true;
        return { outcome: { kind: "temporary", message: "503" }, sent: true, confirmsDelivery: true, request: {}, startedAt: Date.now(), durationMs: 0 };
      }
      return then.send(instance, signal);
    },
  };
}

it(`[${DIALECT}] an attempt that outlasts its lease several times over is renewed, not made again by another worker`, async () => {
  const { store, ingest } = await setUp();
  const sender = slowSender(LEASE_MS * 4);
  startWorker(store, sender);
  startWorker(store, sender);
  await ingest(6);
  const rows = await allSucceeded(store, 6);
  expect([...sender.calls.values()]).toEqual([1, 1, 1, 1, 1, 1]);
  expect(rows.every((r) => r.attempts === 1 && r.lease_until === null && r.lease_token === null)).toBe(true);
});

it(`[${DIALECT}] a record the database does not take at first is retried until it does, without a second attempt`, async () => {
  const { store, ingest } = await setUp();
  const sender = slowSender(10);
  let failures = 0;
  startWorker(store, sender, (inner) => async (record) => {
    if (failures < 3) {
      failures++;
      throw Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:5432"), { code: "ECONNREFUSED" });
    }
    return inner(record);
  });
  await ingest(1);
  await eventually(async () => (sender.calls.size === 1 ? true : undefined));
  // A second worker arrives while the first is still trying to record: it must not take the instance.
  startWorker(store, sender);
  const [row] = await allSucceeded(store, 1);
  expect(failures).toBe(3);
  expect(row?.attempts).toBe(1);
  expect([...sender.calls.values()]).toEqual([1]);
});

/**
 * The database as one worker sees it, switched away and back by the test: while away, every query
 * fails as a connection refused by a stopped server does.
 */
function outage(): KyselyPlugin & { away: boolean } {
  return {
    away: false,
    transformQuery(args) {
      if (this.away) throw Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:5432"), { code: "ECONNREFUSED" });
      return args.node;
    },
    async transformResult(args) {
      return args.result;
    },
  };
}

/** The attempts logged, as (instance, outcome) in the order they started. */
async function attemptLog(store: Store) {
  return store.db.selectFrom("attempts").select(["instance_id", "outcome", "number"]).orderBy("started_at").execute();
}

it(`[${DIALECT}] an answered attempt whose record waits out its lease is not sent again by the worker holding it`, async () => {
  const { store, ingest } = await setUp();
  const db = outage();
  const sender = slowSender(10);
  // The database goes away while the receiver is answering, and stays away for three leases: the
  // lease runs out (renewals fail too) while the worker holds the answer, with claims tried every 50 ms.
  const goingAway: Sender = {
    async send(instance, signal) {
      if (sender.calls.size === 0) {
        db.away = true;
        setTimeout(() => {
          db.away = false;
        }, LEASE_MS * 3);
      }
      return sender.send(instance, signal);
    },
  };
  startWorker(store, goingAway, undefined, { db: store.db.withPlugin(db) });
  await ingest(1);
  const [row] = await allSucceeded(store, 1);
  expect([...sender.calls.values()]).toEqual([1]);
  expect(row?.attempts).toBe(1);
  expect((await attemptLog(store)).map((a) => a.outcome)).toEqual(["succeeded"]);
});

it(`[${DIALECT}] an attempt recorded after another worker took its instance is logged beside that worker's, which keeps the instance's state`, async () => {
  const { store, ingest } = await setUp();
  const db = outage();
  // The first worker's receiver answers 503 (a retry) as its database goes away, for good until the test brings it back.
  let answered = false;
  const first: Sender = {
    async send() {
      db.away = true;
      answered = true;
      return { outcome: { kind: "temporary", message: "503" }, sent: true, confirmsDelivery: true, request: {}, startedAt: Date.now(), durationMs: 0 };
    },
  };
  startWorker(store, first, undefined, { db: store.db.withPlugin(db) });
  await ingest(1);
  await eventually(async () => (answered ? true : undefined));
  // A second worker, whose database is there, takes the instance once the first one's lease runs out.
  const second = slowSender(10);
  startWorker(store, second);
  await allSucceeded(store, 1);
  db.away = false;
  await eventually(async () => ((await attemptLog(store)).length === 2 ? true : undefined));
  const [row] = await allSucceeded(store, 1);
  expect(row?.attempts).toBe(2);
  expect(row?.lease_token).toBeNull();
  expect((await attemptLog(store)).map((a) => a.outcome)).toEqual(["retry", "succeeded"]);
  expect([...second.calls.values()]).toEqual([1]);
});

it(`[${DIALECT}] a record whose commit landed but whose answer was lost is retried without logging the attempt twice`, async () => {
  const { store, ingest } = await setUp();
  const sender = slowSender(10);
  let lost = 0;
  startWorker(store, sender, (inner) => async (record) => {
    const held = await inner(record);
    if (lost++ > 0) return held;
    throw Object.assign(new Error("Connection terminated unexpectedly"), { code: "ECONNRESET" });
  });
  await ingest(1);
  await eventually(async () => (lost === 2 ? true : undefined));
  const [row] = await allSucceeded(store, 1);
  expect(row?.attempts).toBe(1);
  expect((await attemptLog(store)).map((a) => a.outcome)).toEqual(["succeeded"]);
});

/** Counts the claim's reads of due instances: rows returned, and scans past saturated endpoints ("not in"). */
function claimReads(): KyselyPlugin & { rows: number[]; pastSaturated: number; delayMs: number } {
  const windows = new Set<unknown>();
  const reads = {
    rows: [] as number[],
    pastSaturated: 0,
    /** Holds each claim's window read this long: a slow database, so something can happen during a claim. */
    delayMs: 0,
    transformQuery(args: PluginTransformQueryArgs) {
      const text = JSON.stringify(args.node);
      if (args.node.kind === "SelectQueryNode" && text.includes('"next_attempt_at"') && text.includes('"limit"')) {
        windows.add(args.queryId);
        if (text.includes('"not in"')) reads.pastSaturated++;
      }
      return args.node;
    },
    async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
      if (windows.delete(args.queryId)) {
        reads.rows.push(args.result.rows.length);
        if (reads.delayMs > 0) await new Promise((r) => setTimeout(r, reads.delayMs));
      }
      return args.result;
    },
  };
  return reads;
}

it(`[${DIALECT}] a backlog's claims read about twice what its endpoint has room for, not twice what it can hold`, async () => {
  const { store, ingest } = await setUp();
  await ingest(200);
  const reads = claimReads();
  // Each attempt waits for its own release, so room frees one slot at a time.
  const waiting: (() => void)[] = [];
  const sender = slowSender(0);
  const held: Sender = {
    async send(instance, signal) {
      await new Promise<void>((r) => waiting.push(r));
      return sender.send(instance, signal);
    },
  };
  // 16 per endpoint: the worker holds up to 32 of its instances (in flight and queued).
  const worker = startWorker(store, held, undefined, { db: store.db.withPlugin(reads), perEndpointConcurrency: 16, concurrency: 64 });
  // Released at the end, or on a failed expectation, so the worker can drain and stop.
  const releaseAll = () => {
    for (const release of waiting.splice(0)) release();
  };
  try {
    await eventually(async () => (worker.inFlight() === 16 ? true : undefined));
    reads.rows.length = 0;
    for (let i = 0; i < 8; i++) {
      waiting.shift()?.();
      await eventually(async () => (worker.inFlight() === 16 && reads.rows.length > i ? true : undefined));
    }
    // One slot free per claim: a window of 16 rows (the least), where one sized by what the endpoint
    // can hold read 64 to take one.
    expect(reads.rows.length).toBeGreaterThanOrEqual(8);
    expect(Math.max(...reads.rows)).toBeLessThanOrEqual(16);
  } finally {
    releaseAll();
  }
  const drain = setInterval(releaseAll, 5);
  try {
    await allSucceeded(store, 200);
  } finally {
    clearInterval(drain);
  }
});

it(`[${DIALECT}] with its endpoint saturated, new work for that endpoint does not send each claim through its whole backlog`, async () => {
  const { store, ingest, actionId } = await setUp();
  const reads = claimReads();
  let release!: () => void;
  const released = new Promise<void>((r) => (release = r));
  const sender = slowSender(0);
  const held: Sender = {
    async send(instance, signal) {
      await released;
      return sender.send(instance, signal);
    },
  };
  const worker = startWorker(store, held, undefined, { db: store.db.withPlugin(reads), perEndpointConcurrency: 2 });
  await ingest(200);
  // Settled: both slots taken, and the one scan past the saturated endpoint that follows (it finds
  // nothing, so the next waits at least a second). Counting started before that scan, it raced it.
  await eventually(async () => (worker.inFlight() === 2 && reads.pastSaturated === 1 ? true : undefined));

  reads.rows.length = 0;
  reads.pastSaturated = 0;
  const started = Date.now();
  try {
    for (let i = 0; i < 10; i++) {
      await ingest(1);
      worker.notify([actionId]);
      await new Promise((r) => setTimeout(r, 20));
    }
    // Its own new work cannot be claimed while it is saturated, so it does not lift the rationing:
    // no more scans past it (each walks all 200+ due rows) than one per second rationed — not one
    // per new event — and each claim's window is a few times what one endpoint can take.
    expect(reads.pastSaturated).toBeLessThanOrEqual(Math.floor((Date.now() - started) / 1000));
    expect(Math.max(0, ...reads.rows)).toBeLessThanOrEqual(16);
  } finally {
    release();
  }
  await allSucceeded(store, 210);
});

/** Ingest as the server wires it to its worker: new instances handed over when it has room. */
function handingIngest(store: Store, accountId: string, worker: Worker, db: Store["db"] = store.db) {
  const ingest = createIngest(createCommitter(db, committerOptions(store, 10)), {
    newId,
    now: Date.now,
    onInstances: (actionIds) => worker.notify(actionIds),
    reserve: worker.reserve,
  });
  return (...ids: number[]) =>
    ingest(
      accountId,
      ids.map((id) => validateEvent({ type: "participant.confirmed", data: { participant: { id } } })),
    );
}

/** The lease each instance had when its attempt started (read by the sender from the database). */
function leaseCheckingSender(store: Store, inner: Sender): Sender & { leases: Map<string, string | null> } {
  const leases = new Map<string, string | null>();
  return {
    leases,
    async send(instance, signal) {
      const row = await store.db.selectFrom("instances").select("lease_token").where("id", "=", instance.id).executeTakeFirstOrThrow();
      leases.set(instance.id, row.lease_token === instance.leaseToken ? "own" : row.lease_token);
      return inner.send(instance, signal);
    },
  };
}

it(`[${DIALECT}] a new instance the worker has room for is born leased to it and attempted without a claim`, async () => {
  const { store, accountId } = await setUp();
  const reads = claimReads();
  const sender = slowSender(0);
  const checking = leaseCheckingSender(store, sender);
  const worker = startWorker(store, checking, undefined, { db: store.db.withPlugin(reads) });
  // The worker's first claim (at its start) finds the queue empty: nothing waits that a new instance could overtake.
  await eventually(async () => (reads.rows.length > 0 ? true : undefined));
  reads.rows.length = 0;
  const ingest = handingIngest(store, accountId, worker);
  await ingest(1, 2, 3);
  await ingest(4);
  const rows = await allSucceeded(store, 4);
  expect(rows.every((r) => r.attempts === 1 && r.lease_token === null)).toBe(true);
  expect([...sender.calls.values()]).toEqual([1, 1, 1, 1]);
  expect([...checking.leases.values()]).toEqual(["own", "own", "own", "own"]);
  // The fallback poll may still claim now and then; no claim found any of them.
  expect(reads.rows.every((n) => n === 0)).toBe(true);
});

it(`[${DIALECT}] a retry being recorded does not keep new instances from being handed over`, async () => {
  const { store, accountId } = await setUp();
  const reads = claimReads();
  const sender = slowSender(0);
  // Participant 1 fails once; its retry falls due long after the test.
  const failingFirst = failingFirstOf1(sender);
  const worker = startWorker(store, failingFirst, undefined, { db: store.db.withPlugin(reads), pollIntervalMs: 60_000, backoffMs: 60_000 });
  await eventually(async () => (reads.rows.length > 0 ? true : undefined));
  reads.rows.length = 0;
  // Claims are slow from here: the look the retry's record asks for is still running when the next event comes.
  reads.delayMs = 300;
  const ingest = handingIngest(store, accountId, worker);
  await ingest(1);
  await eventually(() => store.db.selectFrom("instances").select("id").where("state", "=", "retrying").executeTakeFirst());
  await ingest(2);
  await eventually(async () => (sender.calls.size === 1 ? true : undefined));
  // Handed over, not claimed: no claim found anything. (The record's look had blocked every hand-off,
  // of every action, until it ended; instance 2 then waited for a claim of its own.)
  expect(reads.rows.every((n) => n === 0)).toBe(true);
});

it(`[${DIALECT}] a slot that frees starts the endpoint's next held instance at once, without a claim`, async () => {
  const { store, accountId } = await setUp();
  const reads = claimReads();
  const gates = [0, 1, 2, 3].map(() => {
    let resolve!: () => void;
    const promise = new Promise<void>((r) => (resolve = r));
    return { promise, resolve };
  });
  const started: number[] = [];
  const sender = slowSender(0);
  const held: Sender = {
    async send(instance, signal) {
      const id = (JSON.parse(instance.object) as { id: number }).id;
      started.push(id);
      await gates[id - 1]?.promise;
      return sender.send(instance, signal);
    },
  };
  const worker = startWorker(store, held, undefined, { db: store.db.withPlugin(reads), perEndpointConcurrency: 2 });
  await eventually(async () => (reads.rows.length > 0 ? true : undefined));
  reads.rows.length = 0;
  const ingest = handingIngest(store, accountId, worker);
  await ingest(1, 2, 3, 4);
  await eventually(async () => (worker.inFlight() === 2 ? true : undefined));
  // The endpoint's limit holds: two started, two held for it.
  expect(started).toEqual([1, 2]);
  gates[1]?.resolve();
  await eventually(async () => (started.length === 3 ? true : undefined));
  expect(started).toEqual([1, 2, 3]);
  expect(worker.inFlight()).toBe(2);
  for (const g of gates) g.resolve();
  const rows = await allSucceeded(store, 4);
  expect(rows.every((r) => r.attempts === 1)).toBe(true);
  expect(started).toEqual([1, 2, 3, 4]);
  // All four were handed over at ingest and started from the gate: no claim found any of them.
  expect(reads.rows.every((n) => n === 0)).toBe(true);
});

it(`[${DIALECT}] at shutdown, an instance queued for its endpoint's slot is released untouched, like one aborted in flight`, async () => {
  const { store, accountId } = await setUp();
  const reads = claimReads();
  const calls: string[] = [];
  // Answers only when aborted (shutdown): the one slot stays taken through the grace period.
  const hanging: Sender = {
    send(instance, signal) {
      calls.push(instance.id);
      return new Promise((_, reject) => signal.addEventListener("abort", () => reject(signal.reason), { once: true }));
    },
  };
  const worker = startWorker(store, hanging, undefined, { db: store.db.withPlugin(reads), perEndpointConcurrency: 1, shutdownGraceMs: 100 });
  await eventually(async () => (reads.rows.length > 0 ? true : undefined));
  const ingest = handingIngest(store, accountId, worker);
  await ingest(1, 2);
  // Both born leased: one in flight, one queued for the slot.
  await eventually(async () => (worker.inFlight() === 1 ? true : undefined));
  const leased = await store.db.selectFrom("instances").select("lease_token").execute();
  expect(leased.filter((r) => r.lease_token !== null)).toHaveLength(2);
  await worker.shutDown();
  expect(calls).toHaveLength(1);
  const rows = await store.db.selectFrom("instances").select(["state", "attempts", "lease_token"]).execute();
  expect(rows).toHaveLength(2);
  // Neither counts as an attempt, and both are free for the next start to take at once.
  expect(rows.every((r) => r.attempts === 0 && r.lease_token === null && r.state !== "succeeded")).toBe(true);
  expect(await store.db.selectFrom("attempts").select("id").execute()).toHaveLength(0);
});

it(`[${DIALECT}] an attempt's start is when it left the gate, not when it was queued there`, async () => {
  const { store, accountId } = await setUp();
  const reads = claimReads();
  let released = 0;
  const sender: Sender = {
    async send(instance) {
      if ((JSON.parse(instance.object) as { id: number }).id === 1) {
        await new Promise((r) => setTimeout(r, 300));
        released = Date.now();
        return { outcome: { kind: "success" }, sent: true, confirmsDelivery: true, request: {}, startedAt: released, durationMs: 300 };
      }
      // A fault, not an outcome: the worker makes the attempt's record itself, timed from its start.
      throw new Error("broken sender");
    },
  };
  const worker = startWorker(store, sender, undefined, { db: store.db.withPlugin(reads), perEndpointConcurrency: 1 });
  await eventually(async () => (reads.rows.length > 0 ? true : undefined));
  await handingIngest(store, accountId, worker)(1, 2);
  const failed = await eventually(
    async () =>
      (await store.db.selectFrom("attempts").select(["started_at", "error"]).where("error", "like", "internal error%").executeTakeFirst()) ?? undefined,
  );
  // Queued behind participant 1 for the one slot, it started once that slot was free.
  expect(failed.started_at).toBeGreaterThanOrEqual(released);
});

it(`[${DIALECT}] a new instance is not handed over past older work for its action: it waits for a claim, in order`, async () => {
  const { store, accountId } = await setUp();
  let release!: () => void;
  const released = new Promise<void>((r) => (release = r));
  const order: number[] = [];
  const sender = slowSender(0);
  const held: Sender = {
    async send(instance, signal) {
      order.push((JSON.parse(instance.object) as { id: number }).id);
      await released;
      return sender.send(instance, signal);
    },
  };
  const reads = claimReads();
  const worker = startWorker(store, held, undefined, { db: store.db.withPlugin(reads), perEndpointConcurrency: 2 });
  await eventually(async () => (reads.rows.length > 0 ? true : undefined));
  const ingest = handingIngest(store, accountId, worker);
  try {
    await ingest(1, 2, 3, 4, 5, 6);
    await eventually(async () => (worker.inFlight() === 2 ? true : undefined));
    // Two slots, and as many again held at the gate: four instances born leased (two started, two
    // queued for a slot), two left for a claim.
    const leased = await store.db.selectFrom("instances").select("lease_token").execute();
    expect(leased.filter((r) => r.lease_token !== null)).toHaveLength(4);
    expect(order.sort()).toEqual([1, 2]);
    // A later event must not take a slot ahead of those.
    await ingest(7);
  } finally {
    release();
  }
  await allSucceeded(store, 7);
  expect(order).toHaveLength(7);
  expect(order.slice(2, 4).sort()).toEqual([3, 4]);
  expect(order.slice(4, 6).sort()).toEqual([5, 6]);
  expect(order[6]).toBe(7);
});

it(`[${DIALECT}] a slot reserved for an ingest that fails is given back, and a rerun of a unit reuses its own`, async () => {
  const { store, accountId } = await setUp();
  const sender = slowSender(0);
  const checking = leaseCheckingSender(store, sender);
  const reads = claimReads();
  const worker = startWorker(store, checking, undefined, { db: store.db.withPlugin(reads), perEndpointConcurrency: 1 });
  await eventually(async () => (reads.rows.length > 0 ? true : undefined));
  // The idempotency look-up of the key "boom" fails: after the event before it in the same request
  // has reserved the one slot.
  const failing: KyselyPlugin = {
    transformQuery(args) {
      if (args.node.kind === "SelectQueryNode" && JSON.stringify(args.node).includes('"boom"')) throw new Error("refused for the test");
      return args.node;
    },
    async transformResult(args) {
      return args.result;
    },
  };
  const ingest = createIngest(createCommitter(store.db.withPlugin(failing), committerOptions(store, 10)), {
    newId,
    now: Date.now,
    onInstances: (actionIds) => worker.notify(actionIds),
    reserve: worker.reserve,
  });
  const event = (id: number, key?: string) =>
    validateEvent({ type: "participant.confirmed", data: { participant: { id } }, ...(key && { idempotency_key: key }) });
  // Same tick, so one shared transaction: it fails, and each unit is run again alone.
  const [bad, good] = await Promise.allSettled([ingest(accountId, [event(1), event(2, "boom")]), ingest(accountId, [event(3)])]);
  expect(bad.status).toBe("rejected");
  expect(good.status).toBe("fulfilled");
  await allSucceeded(store, 1);
  await eventually(async () => (worker.inFlight() === 0 ? true : undefined));
  // The one slot is free again: the next event is handed over and delivered.
  await ingest(accountId, [event(4)]);
  await allSucceeded(store, 2);
  expect([...sender.calls.values()]).toEqual([1, 1]);
  expect([...checking.leases.values()].at(-1)).toBe("own");
});

it(`[${DIALECT}] a retry that falls due while the worker is full is attempted once a slot frees, not at the next poll`, async () => {
  const { store, accountId } = await setUp();
  const slow = slowSender(0);
  // The others stay in flight until the test lets them go: the worker is full for as long as the
  // test needs, however slow the machine (a fixed sleep against the backoff is not, on a slow one).
  let letGo!: () => void;
  const held = new Promise<void>((r) => {
    letGo = r;
  });
  // Participant 1 fails at once (retried BACKOFF_MS later).
  const sender = failingFirstOf1({
    async send(instance, signal) {
      await held;
      return slow.send(instance, signal);
    },
  });
  const BACKOFF_MS = 1_000;
  const reads = claimReads();
  // One slot (so two held: one in flight, one queued for it), and a poll that never comes within the test.
  const worker = startWorker(store, sender, undefined, { db: store.db.withPlugin(reads), concurrency: 1, pollIntervalMs: 60_000, backoffMs: BACKOFF_MS });
  await eventually(async () => (reads.rows.length > 0 ? true : undefined));
  const ingest = handingIngest(store, accountId, worker);
  await ingest(1);
  const retry = await eventually(() =>
    store.db.selectFrom("instances").select(["state", "next_attempt_at"]).where("state", "=", "retrying").executeTakeFirst(),
  );
  // Both holds taken before the retry falls due (the backoff is the room for this ingest's commit):
  // when it does, the worker is full and cannot claim it. Waited for, not read as the ingest
  // returns, which would race the worker taking them ("a retry being recorded …" above covers the
  // hand-offs themselves).
  await ingest(2, 3);
  await eventually(async () => (worker.inFlight() === 1 ? true : undefined));
  expect(Date.now()).toBeLessThan(Number(retry.next_attempt_at));
  await new Promise((r) => setTimeout(r, Number(retry.next_attempt_at) - Date.now() + 100));
  expect(worker.inFlight()).toBe(1);
  letGo();
  const rows = await allSucceeded(store, 3);
  expect(rows.map((r) => r.attempts).sort()).toEqual([1, 1, 2]);
});
