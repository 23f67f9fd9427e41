/**
 * When the worker claims: at once when new work is announced (`notify`) or room frees while work
 * may be waiting; otherwise it sleeps until the next retry falls due, with a fallback poll only for
 * work it cannot be told about (leases of a crashed process expiring). It also knows which actions
 * have due work not yet claimed (`nothingWaitsFor`): a new instance of one of those is not handed
 * over at ingest, where it would overtake that work.
 */
import type { Committer } from "../db/committer.js";
import type { Db } from "../db/schema.js";
import { type ClaimedInstance, claimDue, nextDueAt } from "../instances/instances.js";
import type { Holds } from "./holds.js";
import type { HeldRecords } from "./recorder.js";

const CLAIM_BATCH = 100;
/**
 * A claim's scan past saturated endpoints' backlogs costs as much as those backlogs are long. While
 * it finds other work it runs whenever needed; each time it finds none it waits longer before the
 * next (1 s doubling to 5 s), so a large stuck backlog costs one long scan every few seconds.
 */
const LOOK_PAST_SATURATED_MS = [1_000, 5_000] as const;

export interface ClaimLoopDeps {
  db: Db;
  committer: Committer;
  /** Lock claimed rows (FOR UPDATE SKIP LOCKED): the database is shared with other workers. */
  lockClaims: boolean;
  leaseMs: number;
  pollIntervalMs: number;
  holds: Omit<Holds, "take" | "claimTokens">;
  /** Instances whose attempts are not yet recorded: never claimed again by this worker. */
  heldInstances: ReadonlySet<string>;
  records: Pick<HeldRecords, "failed" | "answered">;
  /** A token unique per worker run and claim. */
  newToken: () => string;
  /** Takes a claimed instance: holds it and attempts it. */
  start: (instance: ClaimedInstance) => void;
  now: () => number;
}

export interface ClaimLoop {
  /** Claims until `signal` aborts. */
  run(signal: AbortSignal): Promise<void>;
  /** New work was committed (for these actions, when known): look now. */
  notify(actionIds?: readonly string[]): void;
  /** The due times changed: look now, whatever the last look found. */
  lookAgain(): void;
  /** Room freed: look again if work may be waiting for it. */
  roomFreed(): void;
  /** No due work of `actionId` is known to wait for a claim (a new instance may be handed over). */
  nothingWaitsFor(actionId: string): boolean;
}

export function createClaimLoop(deps: ClaimLoopDeps): ClaimLoop {
  const { holds, now } = deps;
  let wake: (() => void) | undefined;
  let woken = false;
  let lastLookPastSaturated = 0;
  let lookPastDelay = 0;
  /** Actions in the last claim's window (unknown before the first). */
  let actionsDue: readonly string[] | undefined;
  /**
   * Actions with due work not yet claimed, as far as this worker knows: "all" until a claim has
   * taken everything its window held.
   */
  let waiting: Set<string> | "all" = "all";
  /** Counts notifications, so a claim that raced one does not clear what it announced. */
  let notifications = 0;
  /**
   * Nothing unclaimed falls due before this time, as of the last look (undefined: not known; the
   * worker was full, the look failed, or new work was announced since).
   */
  let idleUntil: number | undefined;

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
    if (!actionIds || actionIds.some((id) => holds.room(id) > 0)) lookPastDelay = 0;
    if (!actionIds) waiting = "all";
    else if (waiting !== "all") for (const id of actionIds) waiting.add(id);
    lookAgain();
  }

  /**
   * A claim running meanwhile may not have seen the change, so it sets neither `idleUntil` nor
   * `waiting` from what it saw (`notifications`).
   */
  function lookAgain(): void {
    notifications++;
    idleUntil = undefined;
    wakeUp();
  }

  /**
   * Room that frees is worth a claim only if work may be waiting for it: with new instances handed
   * over at ingest, a claim after every attempt found nothing, at the cost of a commit each.
   */
  function roomFreed(): void {
    if (waiting === "all" || waiting.size > 0 || idleUntil === undefined || now() >= idleUntil) wakeUp();
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

  /** One claim of what is due and fits; what it took, or undefined when the claim failed. */
  async function claim(): Promise<{ claimed: ClaimedInstance[]; more: boolean } | undefined> {
    try {
      const t = now();
      const query = {
        now: t,
        leaseMs: deps.leaseMs,
        limit: Math.min(holds.free(), CLAIM_BATCH),
        room: holds.room,
        accountRoom: holds.accountRoom,
        actionsDue,
        saturated: holds.saturated(),
        saturatedAccounts: holds.saturatedAccounts(),
        lookPastSaturated: t - lastLookPastSaturated >= lookPastDelay,
        lock: deps.lockClaims,
        token: deps.newToken(),
        holding: deps.heldInstances,
      };
      // Sending needs the lease visible, not on disk: a lease lost with the machine means the instance
      // is claimed again after a restart, as it would be had the process died mid-attempt.
      const notified = notifications;
      const result = await deps.committer.run((trx) => claimDue(trx, query), { durable: false });
      deps.records.answered(t);
      // What this claim left behind is what is waiting: unless new work was announced meanwhile,
      // which it may not have seen, or it had no room to claim anything (then it did not look).
      if (notifications === notified && query.limit > 0) waiting = result.more ? "all" : new Set(result.leftBehind);
      actionsDue = result.actionsDue;
      if (result.lookedPastSaturated) {
        lastLookPastSaturated = t;
        lookPastDelay = result.claimed.length > 0 ? 0 : Math.min(Math.max(lookPastDelay * 2, LOOK_PAST_SATURATED_MS[0]), LOOK_PAST_SATURATED_MS[1]);
      }
      return result;
    } catch (err) {
      deps.records.failed(err, "could not claim due instances");
      return undefined;
    }
  }

  /**
   * How long to sleep after a claim that took `claimed`: until the next retry falls due, whether or
   * not the claim took anything; a freed slot wakes the worker only while work may be waiting, and
   * that is known from here (`idleUntil`).
   */
  async function untilDue(claimed: number): Promise<number> {
    let wait = deps.pollIntervalMs;
    idleUntil = undefined;
    if (holds.free() <= 0) return wait;
    const notified = notifications;
    // null: the look failed, so nothing is known (and a freed slot looks again).
    const due = await nextDueAt(deps.db).catch(() => null);
    if (due === undefined || (due !== null && due > now())) {
      if (due !== undefined) wait = Math.min(wait, due - now());
      if (notifications === notified) idleUntil = due ?? Number.POSITIVE_INFINITY;
    }
    // Due already but not claimed: skipped for a saturated endpoint (a completion wakes us), or
    // locked by another transaction just then. Look again soon rather than at the next poll.
    else if (due !== null && claimed === 0) wait = Math.min(wait, 1_000);
    return wait;
  }

  async function run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      // Let the rest of this I/O phase run first: attempts finishing together free their slots
      // together, and one claim serves them all instead of one claim (and one commit) each.
      await new Promise<void>((resolve) => setImmediate(resolve));
      woken = false;
      const result = await claim();
      if (!result) {
        // The database may be back in a moment (a restart): look again soon, whatever the poll interval.
        await sleep(Math.min(deps.pollIntervalMs, 1_000), signal);
        continue;
      }
      const { claimed, more } = result;
      for (const instance of claimed) deps.start(instance);
      // More may be due (a full batch, or a scan window full of other actions' work): look again now.
      if (claimed.length > 0 && (claimed.length === CLAIM_BATCH || more) && holds.free() > 0) continue;
      await sleep(await untilDue(claimed.length), signal);
    }
  }

  return {
    run,
    notify,
    lookAgain,
    roomFreed,
    nothingWaitsFor: (actionId) => waiting !== "all" && !waiting.has(actionId),
  };
}
