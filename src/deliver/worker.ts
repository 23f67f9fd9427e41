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
 *
 * This file composes the parts, each owning its state: holds.ts (what the worker holds, and its
 * room), claim-loop.ts (when it claims) with due-work.ts (what waits), attempt.ts (send → decide →
 * record), recorder.ts (records held until they commit) and endpoint-gate.ts (which held instance
 * starts when). The database is the queue's (queue/queue.ts), seen through `WorkerQueue`.
 */
import { randomUUID } from "node:crypto";
import type { Tracer } from "@opentelemetry/api";
import type { Logger } from "pino";
import type { AttemptRecorder } from "../attempts/attempts.js";
import type { Committer } from "../db/committer.js";
import type { Handoff } from "../ingest/ingest.js";
import type { Metrics } from "../metrics/metrics.js";
import type { ClaimedInstance } from "../queue/claim.js";
import { createAttempt, type ReleaseQueue } from "./attempt.js";
import { type ClaimQueue, createClaimLoop } from "./claim-loop.js";
import { createEndpointGate, HOLD_FACTOR } from "./endpoint-gate.js";
import { createHolds, type Holds, type Slot } from "./holds.js";
import { createHeldRecords, type HeldRecords } from "./recorder.js";
import type { RetryPolicy } from "./retry-policy.js";
import type { Sender } from "./sender.js";

/** The queue as the worker uses it (queue/queue.ts): claims, renewals and releases. */
export interface WorkerQueue extends ClaimQueue, ReleaseQueue {
  /** Extends the leases of these claims to `until`. */
  renew(tokens: readonly string[], until: number): Promise<number>;
}

export interface WorkerDeps {
  queue: WorkerQueue;
  /** Shutdown waits for the commits the worker's queue and records share with ingest. */
  committer: Pick<Committer, "drain">;
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

export function createWorker(deps: WorkerDeps): Worker {
  const now = deps.now ?? Date.now;
  /** Attempts not yet recorded (in flight, or waiting for their record's commit): shutdown waits for them. */
  const unfinished = new Set<Promise<void>>();
  // Aborts attempts still running when shutdown's grace period is over.
  const hardStop = new AbortController();
  // Claim tokens: unique per worker run and claim, so a late completion of an old claim never matches a newer one.
  const workerId = randomUUID();
  let claims = 0;
  const newToken = () => `${workerId}:${++claims}`;
  /** The instances of attempts not yet recorded: never claimed again by this worker (claimDue's `holding`). */
  const heldInstances = new Set<string>();
  let stopping = false;
  const records = createHeldRecords({ recorder: deps.recorder, logger: deps.logger, stop: hardStop.signal, now });
  const accountConcurrency = deps.accountConcurrency ?? deps.concurrency;
  const holds = createHolds(
    { perAction: deps.perEndpointConcurrency * HOLD_FACTOR, perAccount: accountConcurrency * HOLD_FACTOR, all: deps.concurrency * HOLD_FACTOR },
    () => loop.roomFreed(),
  );
  const loop = createClaimLoop({ ...deps, holds, heldInstances, records, newToken, start, now });
  /** Starts held instances within the limits, in the order they were taken. */
  const gate = createEndpointGate({ perEndpoint: deps.perEndpointConcurrency, perAccount: accountConcurrency, all: deps.concurrency });
  const attempt = createAttempt({ ...deps, gate, records, hardStop: hardStop.signal, onRetryRecorded: () => loop.lookAgain(), now });

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

  function start(instance: ClaimedInstance): void {
    launch(instance, holds.take(instance.actionId, instance.accountId, instance.leaseToken));
  }

  function reserve(actionId: string, accountId: string): Handoff | undefined {
    if (stopping || !loop.nothingWaitsFor(actionId) || holds.free() <= 0 || holds.room(actionId, accountId) <= 0) return undefined;
    const leaseToken = newToken();
    const slot = holds.take(actionId, accountId, leaseToken);
    return handoff(leaseToken, now() + deps.leaseMs, slot, (instance) => launch(instance, slot), unfinished);
  }

  return {
    name: "delivery",
    notify: (actionIds) => loop.notify(actionIds),
    inFlight: () => gate.inFlight(),
    reserve,
    async run(signal) {
      const renew = renewal(deps, holds, records);
      const renewing = setInterval(() => void renew(), Math.max(1, Math.floor(deps.leaseMs / 3)));
      renewing.unref();
      await loop.run(signal);
      stopping = true;
      // Stopped claiming. Attempts in flight may finish within the grace period; any still running
      // after it are aborted and their instances released, to be attempted again on the next start.
      const timer = setTimeout(() => hardStop.abort(), deps.shutdownGraceMs);
      // Until none is left: a slot reserved at ingest becomes an attempt only once its commit is in.
      while (unfinished.size > 0) await Promise.all([...unfinished]);
      clearTimeout(timer);
      clearInterval(renewing);
      records.stop();
      await deps.committer.drain();
    },
  };
}

/** Keeps the leases of unfinished claims alive; a failure is logged and tried again next time. */
function renewal(
  deps: Pick<WorkerDeps, "queue" | "leaseMs" | "now">,
  holds: Pick<Holds, "claimTokens">,
  records: Pick<HeldRecords, "answered" | "failed">,
): () => Promise<void> {
  const now = deps.now ?? Date.now;
  return async () => {
    const tokens = holds.claimTokens();
    if (tokens.length === 0) return;
    const since = now();
    try {
      await deps.queue.renew(tokens, since + deps.leaseMs);
      records.answered(since);
    } catch (err) {
      records.failed(err, "could not renew leases");
    }
  };
}

/**
 * A hand-off of the held `slot`: `launch` attempts its instance once committed. Shutdown waits for
 * it as for an attempt (`unfinished`): its instance may yet be committed.
 */
function handoff(leaseToken: string, leaseUntil: number, slot: Slot, launch: (instance: ClaimedInstance) => void, unfinished: Set<Promise<void>>): Handoff {
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
    leaseUntil,
    start(instance) {
      if (settled) return;
      launch(instance);
      end();
    },
    cancel() {
      if (settled) return;
      slot.release();
      end();
    },
  };
}
