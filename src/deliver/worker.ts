/**
 * The delivery worker: claims due instances with a lease, runs one attempt each, records the
 * outcome and decides what happens next (retry-policy.ts). It wakes at once when ingest commits new
 * instances and when an attempt finishes; otherwise it sleeps until the next retry falls due, with a
 * fallback poll only for work it cannot be told about (leases of a crashed process expiring).
 *
 * Concurrency is bounded in all (`concurrency`), per account (`accountConcurrency`) and per action
 * endpoint (`perEndpointConcurrency`): a slow endpoint holds at most its own slots, an account with
 * many of them at most the account's, and a backlog is skipped while its action or its account is
 * saturated. The worker holds up to `HOLD_FACTOR` times these limits in leased instances: the
 * limits in flight, the rest queued at a gate (endpoint-gate.ts) that starts one the moment a slot
 * frees. Claims then top the queue up while the endpoints stay busy, instead of every freed slot
 * waiting for a claim and its commit. A hanging endpoint still takes no more of the whole than its
 * share: its limit in flight, and as many again held; an account whose endpoints all hang, its
 * account's limit and as many again, leaving the other slots to the other accounts.
 *
 * Hand-off: when the worker has a free slot and nothing older waits for an action, ingest gives a
 * new instance of that action straight to it (`reserve`): the instance is inserted already leased to
 * this worker, as a claim would leave it, and attempted as soon as its commit is visible. That saves
 * a claim (a transaction of three statements) per event and a turn of the committer in the latency.
 * Anything not handed over — no room, older work waiting, another process's — is claimed as before.
 *
 * Leases: each claim has a token; while any of its attempts is unfinished (waiting for the receiver
 * or for its record to commit) the worker renews the claim's lease every third of `leaseMs`, so a
 * slow attempt is never claimed again by another worker, and a worker that dies stops renewing and
 * its instances are claimed again once the lease runs out. A record that cannot be written (the
 * database is away) is retried until it is, and at once when the database answers again.
 *
 * The database away for longer than a lease: the leases of attempts the worker holds (answered and
 * waiting for their record) run out. The worker never claims those instances again itself — it
 * would send a second time what it is about to record — so only another process can (the instance
 * looks abandoned to it), and then both attempts are logged (attempts.ts). The outage itself is
 * logged once, then counted (db/outage-log.ts), not a line with a stack per failed query.
 */
import { randomUUID } from "node:crypto";
import type { Tracer } from "@opentelemetry/api";
import type { Logger } from "pino";
import type { AttemptRecorder } from "../attempts/attempts.js";
import type { Committer } from "../db/committer.js";
import type { Db } from "../db/schema.js";
import type { Handoff } from "../ingest/ingest.js";
import { type ClaimedInstance, claimDue, nextDueAt, renewLeases } from "../instances/instances.js";
import type { Metrics } from "../metrics/metrics.js";
import { createAttempt } from "./attempt.js";
import { createEndpointGate, HOLD_FACTOR } from "./endpoint-gate.js";
import { createHolds, type Slot } from "./holds.js";
import { createHeldRecords } from "./recorder.js";
import type { RetryPolicy } from "./retry-policy.js";
import type { Sender } from "./sender.js";

export interface WorkerDeps {
  db: Db;
  /** Claims share commits with ingest and attempt records. */
  committer: Committer;
  /** Lock claimed rows (FOR UPDATE SKIP LOCKED): the database is shared with other workers. */
  lockClaims: boolean;
  senders: Record<ClaimedInstance["actionType"], Sender>;
  recorder: AttemptRecorder;
  policy: RetryPolicy;
  logger: Logger;
  now?: () => number;
  concurrency: number;
  /** Attempts in flight for one account's actions together (the whole `concurrency` when absent). */
  accountConcurrency?: number;
  perEndpointConcurrency: number;
  leaseMs: number;
  pollIntervalMs: number;
  shutdownGraceMs: number;
  metrics?: Metrics;
  tracer?: Tracer;
}

export interface Worker {
  readonly name: string;
  /**
   * Runs until `signal` aborts; then stops claiming, lets attempts in flight finish for
   * `shutdownGraceMs`, aborts and releases the rest, and waits for every record to commit.
   */
  run(signal: AbortSignal): Promise<void>;
  /** New work was committed (for these actions, when known): look now. */
  notify(actionIds?: readonly string[]): void;
  /** Attempts waiting for their receiver right now (not those queued for a slot). */
  inFlight(): number;
  /**
   * A slot for a new instance of `actionId` that ingest is about to commit, when the worker has one
   * free and no older work waiting for that action; undefined otherwise (the instance is then
   * claimed as usual). The instance is born leased to this worker and attempted once committed,
   * without a claim.
   */
  reserve(actionId: string, accountId: string): Handoff | undefined;
}

const CLAIM_BATCH = 100;
/**
 * A claim's scan past saturated endpoints' backlogs costs as much as those backlogs are long. While
 * it finds other work it runs whenever needed; each time it finds none it waits longer before the
 * next (1 s doubling to 5 s), so a large stuck backlog costs one long scan every few seconds.
 */
const LOOK_PAST_SATURATED_MS = [1_000, 5_000] as const;

export function createWorker(deps: WorkerDeps): Worker {
  const now = deps.now ?? Date.now;
  let wake: (() => void) | undefined;
  let woken = false;
  /** Attempts not yet recorded (in flight, or waiting for their record's commit): shutdown waits for them. */
  const unfinished = new Set<Promise<void>>();
  // Aborts attempts still running when shutdown's grace period is over.
  const hardStop = new AbortController();
  // Claim tokens: unique per worker run and claim, so a late completion of an old claim never matches a newer one.
  const workerId = randomUUID();
  let claims = 0;
  let lastLookPastSaturated = 0;
  let lookPastDelay = 0;
  /** Actions in the last claim's window (unknown before the first). */
  let actionsDue: readonly string[] | undefined;
  /** The instances of attempts not yet recorded: never claimed again by this worker (claimDue's `holding`). */
  const heldInstances = new Set<string>();
  const records = createHeldRecords({ recorder: deps.recorder, logger: deps.logger, stop: hardStop.signal, now });
  const { failed, answered } = records;
  /**
   * Actions with due work not yet claimed, as far as this worker knows: "all" until a claim has
   * taken everything its window held. A new instance of an action with older work waiting is not
   * handed to the worker at ingest (it would overtake that work); it waits for a claim.
   */
  let waiting: Set<string> | "all" = "all";
  /** Counts notifications, so a claim that raced one does not clear what it announced. */
  let notifications = 0;
  /**
   * Nothing unclaimed falls due before this time, as of the last look (undefined: not known; the
   * worker was full, the look failed, or new work was announced since).
   */
  let idleUntil: number | undefined;
  let stopping = false;

  /** Look again now (a slot was freed). */
  function wakeUp(): void {
    woken = true;
    wake?.();
  }

  /**
   * New work was committed: look now, and past saturated endpoints' backlogs too if it may be hidden
   * there. Work for endpoints that are saturated themselves is not: with one busy endpoint taking a
   * steady stream of events, every claim walked that endpoint's whole backlog to find nothing.
   */
  function notify(actionIds?: readonly string[]): void {
    if (!actionIds || actionIds.some((id) => room(id) > 0)) lookPastDelay = 0;
    if (!actionIds) waiting = "all";
    else if (waiting !== "all") for (const id of actionIds) waiting.add(id);
    lookAgain();
  }

  /**
   * The due times changed: look now, whatever the last look found. A claim running meanwhile may
   * not have seen the change, so it sets neither `idleUntil` nor `waiting` from what it saw
   * (`notifications`).
   */
  function lookAgain(): void {
    notifications++;
    idleUntil = undefined;
    wakeUp();
  }

  const accountConcurrency = deps.accountConcurrency ?? deps.concurrency;
  // Room that frees is worth a look only if work may be waiting for it (wakeIfWorkMayWait).
  const holds = createHolds(
    { perAction: deps.perEndpointConcurrency * HOLD_FACTOR, perAccount: accountConcurrency * HOLD_FACTOR, all: deps.concurrency * HOLD_FACTOR },
    () => wakeIfWorkMayWait(),
  );
  const { room } = holds;
  /** Starts held instances within the limits, in the order they were taken. */
  const gate = createEndpointGate({ perEndpoint: deps.perEndpointConcurrency, perAccount: accountConcurrency, all: deps.concurrency });
  const attempt = createAttempt({
    senders: deps.senders,
    gate,
    records,
    committer: deps.committer,
    policy: deps.policy,
    logger: deps.logger,
    hardStop: hardStop.signal,
    onRetryRecorded: lookAgain,
    now,
    ...(deps.metrics && { metrics: deps.metrics }),
    ...(deps.tracer && { tracer: deps.tracer }),
  });

  /** Keeps the leases of unfinished claims alive; a failure is logged and tried again next time. */
  async function renew(): Promise<void> {
    const tokens = holds.claimTokens();
    if (tokens.length === 0) return;
    const since = now();
    try {
      await deps.committer.run((trx) => renewLeases(trx, tokens, since + deps.leaseMs), { durable: false });
      answered(since);
    } catch (err) {
      failed(err, "could not renew leases");
    }
  }

  /**
   * Room that frees is worth a claim only if work may be waiting for it: with new instances handed
   * over at ingest, a claim after every attempt found nothing, at the cost of a commit each.
   */
  function wakeIfWorkMayWait(): void {
    if (waiting === "all" || waiting.size > 0 || idleUntil === undefined || now() >= idleUntil) wakeUp();
  }

  function launch(instance: ClaimedInstance, slot: Slot): void {
    heldInstances.add(instance.id);
    const p: Promise<void> = attempt(instance, slot.freeSlot)
      .catch((err) => deps.logger.error({ err, instance: instance.id }, "attempt failed unexpectedly"))
      .finally(() => {
        heldInstances.delete(instance.id);
        slot.release();
        unfinished.delete(p);
      });
    unfinished.add(p);
  }

  const start = (instance: ClaimedInstance) => launch(instance, holds.take(instance.actionId, instance.accountId, instance.leaseToken));

  function reserve(actionId: string, accountId: string): Handoff | undefined {
    if (stopping || waiting === "all" || waiting.has(actionId) || holds.free() <= 0 || room(actionId, accountId) <= 0) return undefined;
    const leaseToken = `${workerId}:${++claims}`;
    const slot = holds.take(actionId, accountId, leaseToken);
    // Shutdown waits for the reserved slot as for an attempt: its instance may yet be committed.
    let settle!: () => void;
    const reserved = new Promise<void>((resolve) => {
      settle = resolve;
    });
    unfinished.add(reserved);
    let settled = false;
    const end = () => {
      settled = true;
      unfinished.delete(reserved);
      settle();
    };
    return {
      leaseToken,
      leaseUntil: now() + deps.leaseMs,
      start(instance) {
        if (settled) return;
        launch(instance, slot);
        end();
      },
      cancel() {
        if (settled) return;
        slot.release();
        end();
      },
    };
  }

  async function sleep(ms: number, signal: AbortSignal): Promise<void> {
    // Already stopping (aborted while claiming): an abort listener added now would never fire.
    if (woken || signal.aborted) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        signal.removeEventListener("abort", done);
        wake = undefined;
        resolve();
      }
      wake = done;
      signal.addEventListener("abort", done, { once: true });
    });
  }

  async function run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      // Let the rest of this I/O phase run first: attempts finishing together free their slots
      // together, and one claim serves them all instead of one claim (and one commit) each.
      await new Promise<void>((resolve) => setImmediate(resolve));
      woken = false;
      const free = holds.free();
      let claimed: ClaimedInstance[] = [];
      let more = false;
      try {
        const token = `${workerId}:${++claims}`;
        const t = now();
        const query = {
          now: t,
          leaseMs: deps.leaseMs,
          limit: Math.min(free, CLAIM_BATCH),
          room,
          accountRoom: holds.accountRoom,
          actionsDue,
          saturated: holds.saturated(),
          saturatedAccounts: holds.saturatedAccounts(),
          lookPastSaturated: t - lastLookPastSaturated >= lookPastDelay,
          lock: deps.lockClaims,
          token,
          holding: heldInstances,
        };
        // Sending needs the lease visible, not on disk: a lease lost with the machine means the instance
        // is claimed again after a restart, as it would be had the process died mid-attempt.
        const notified = notifications;
        const result = await deps.committer.run((trx) => claimDue(trx, query), { durable: false });
        answered(t);
        ({ claimed, more } = result);
        // What this claim left behind is what is waiting: unless new work was announced meanwhile,
        // which it may not have seen, or it had no room to claim anything (then it did not look).
        if (notifications === notified && query.limit > 0) waiting = more ? "all" : new Set(result.leftBehind);
        actionsDue = result.actionsDue;
        if (result.lookedPastSaturated) {
          lastLookPastSaturated = t;
          lookPastDelay = claimed.length > 0 ? 0 : Math.min(Math.max(lookPastDelay * 2, LOOK_PAST_SATURATED_MS[0]), LOOK_PAST_SATURATED_MS[1]);
        }
      } catch (err) {
        failed(err, "could not claim due instances");
        // The database may be back in a moment (a restart): look again soon, whatever the poll interval.
        await sleep(Math.min(deps.pollIntervalMs, 1_000), signal);
        continue;
      }
      for (const instance of claimed) start(instance);
      // More may be due (a full batch, or a scan window full of other actions' work): look again now.
      if (claimed.length > 0 && (claimed.length === CLAIM_BATCH || more) && holds.free() > 0) continue;
      let wait = deps.pollIntervalMs;
      idleUntil = undefined;
      // Sleep until the next retry falls due, whether or not this claim took anything: a freed slot
      // wakes the worker only while work may be waiting, and that is known from here (`idleUntil`).
      if (holds.free() > 0) {
        const notified = notifications;
        // null: the look failed, so nothing is known (and a freed slot looks again).
        const due = await nextDueAt(deps.db).catch(() => null);
        if (due === undefined || (due !== null && due > now())) {
          if (due !== undefined) wait = Math.min(wait, due - now());
          if (notifications === notified) idleUntil = due ?? Number.POSITIVE_INFINITY;
        }
        // Due already but not claimed: skipped for a saturated endpoint (a completion wakes us), or
        // locked by another transaction just then. Look again soon rather than at the next poll.
        else if (due !== null && claimed.length === 0) wait = Math.min(wait, 1_000);
      }
      await sleep(wait, signal);
    }
  }

  return {
    name: "delivery",
    notify,
    inFlight: () => gate.inFlight(),
    reserve,
    async run(signal) {
      const renewal = setInterval(() => void renew(), Math.max(1, Math.floor(deps.leaseMs / 3)));
      renewal.unref();
      await run(signal);
      stopping = true;
      // Stopped claiming. Attempts in flight may finish within the grace period; any still running
      // after it are aborted and their instances released, to be attempted again on the next start.
      const timer = setTimeout(() => hardStop.abort(), deps.shutdownGraceMs);
      // Until none is left: a slot reserved at ingest becomes an attempt only once its commit is in.
      while (unfinished.size > 0) await Promise.all([...unfinished]);
      clearTimeout(timer);
      clearInterval(renewal);
      records.stop();
      await deps.committer.drain();
    },
  };
}
