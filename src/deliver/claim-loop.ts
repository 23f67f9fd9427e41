/**
 * When the worker claims: at once when new work is announced (`notify`) or room frees while work
 * may be waiting; otherwise it sleeps until the next retry falls due, with a fallback poll only for
 * work it cannot be told about (leases of a crashed process expiring). It also knows which actions
 * have due work not yet claimed (`nothingWaitsFor`): a new instance of one of those is not handed
 * over at ingest, where it would overtake that work.
 */
import type { ClaimedInstance, ClaimQuery, ClaimResult } from "../queue/claim.js";
import { createDueWork, type DueWork } from "./due-work.js";
import type { Holds } from "./holds.js";
import type { HeldRecords } from "./recorder.js";

const CLAIM_BATCH = 100;
/**
 * A claim's scan past saturated endpoints' backlogs costs as much as those backlogs are long. While
 * it finds other work it runs whenever needed; each time it finds none it waits longer before the
 * next (1 s doubling to 5 s), so a large stuck backlog costs one long scan every few seconds.
 */
const LOOK_PAST_SATURATED_MS = [1_000, 5_000] as const;

/** The queue as the claim loop uses it (queue/queue.ts). */
export interface ClaimQueue {
  claim(query: ClaimQuery): Promise<ClaimResult>;
  nextDueAt(): Promise<number | undefined>;
}

export interface ClaimLoopDeps {
  queue: ClaimQueue;
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
  const { holds } = deps;
  const due = createDueWork(deps.now);
  const ration = createLookPastRation();
  const sleeper = createSleeper();
  const claim = createClaim(deps, due, ration);

  /**
   * New work was committed: look now, and past saturated endpoints' backlogs too if it may be hidden
   * there. Work for endpoints that are saturated themselves is not: with one busy endpoint taking a
   * steady stream of events, every claim walked that endpoint's whole backlog to find nothing.
   */
  function notify(actionIds?: readonly string[]): void {
    if (!actionIds || actionIds.some((id) => holds.room(id) > 0)) ration.reset();
    due.announce(actionIds);
    sleeper.wakeUp();
  }

  /**
   * A claim running meanwhile may not have seen the change, so it sets neither `idleUntil` nor
   * `waiting` from what it saw (due-work.ts).
   */
  function lookAgain(): void {
    due.changed();
    sleeper.wakeUp();
  }

  /**
   * Room that frees is worth a claim only if work may be waiting for it: with new instances handed
   * over at ingest, a claim after every attempt found nothing, at the cost of a commit each.
   */
  function roomFreed(): void {
    if (due.worthAClaim()) sleeper.wakeUp();
  }

  async function run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      // Let the rest of this I/O phase run first: attempts finishing together free their slots
      // together, and one claim serves them all instead of one claim (and one commit) each.
      await new Promise<void>((resolve) => setImmediate(resolve));
      sleeper.clear();
      const result = await claim();
      if (!result) {
        // The database may be back in a moment (a restart): look again soon, whatever the poll interval.
        await sleeper.sleep(Math.min(deps.pollIntervalMs, 1_000), signal);
        continue;
      }
      const { claimed, more } = result;
      for (const instance of claimed) deps.start(instance);
      // More may be due (a full batch, or a scan window full of other actions' work): look again now.
      if (claimed.length > 0 && (claimed.length === CLAIM_BATCH || more) && holds.free() > 0) continue;
      await sleeper.sleep(await untilDue(deps, due, claimed.length), signal);
    }
  }

  return { run, notify, lookAgain, roomFreed, nothingWaitsFor: due.nothingWaitsFor };
}

/** One claim of what is due and fits; what it took, or undefined when the claim failed. */
function createClaim(deps: ClaimLoopDeps, due: DueWork, ration: LookPastRation): () => Promise<ClaimResult | undefined> {
  const { holds, now } = deps;
  /** Actions in the last claim's window (unknown before the first). */
  let actionsDue: readonly string[] | undefined;
  return async () => {
    try {
      const t = now();
      const query: ClaimQuery = {
        now: t,
        leaseMs: deps.leaseMs,
        limit: Math.min(holds.free(), CLAIM_BATCH),
        room: holds.room,
        accountRoom: holds.accountRoom,
        actionsDue,
        saturated: holds.saturated(),
        saturatedAccounts: holds.saturatedAccounts(),
        lookPastSaturated: ration.allowed(t),
        token: deps.newToken(),
        holding: deps.heldInstances,
      };
      const mark = due.mark();
      const result = await deps.queue.claim(query);
      deps.records.answered(t);
      // What this claim left behind is what is waiting: unless new work was announced meanwhile,
      // which it may not have seen, or it had no room to claim anything (then it did not look).
      if (query.limit > 0) due.claimed(mark, result.more ? "all" : result.leftBehind);
      actionsDue = result.actionsDue;
      if (result.lookedPastSaturated) ration.looked(t, result.claimed.length > 0);
      return result;
    } catch (err) {
      deps.records.failed(err, "could not claim due instances");
      return undefined;
    }
  };
}

/**
 * How long to sleep after a claim that took `claimed`: until the next retry falls due, whether or
 * not the claim took anything; a freed slot wakes the worker only while work may be waiting, and
 * that is known from here (`idle`).
 */
async function untilDue(deps: Pick<ClaimLoopDeps, "queue" | "holds" | "pollIntervalMs" | "now">, due: DueWork, claimed: number): Promise<number> {
  const { now } = deps;
  let wait = deps.pollIntervalMs;
  due.forgetIdle();
  if (deps.holds.free() <= 0) return wait;
  const mark = due.mark();
  // null: the look failed, so nothing is known (and a freed slot looks again).
  const next = await deps.queue.nextDueAt().catch(() => null);
  if (next === undefined || (next !== null && next > now())) {
    if (next !== undefined) wait = Math.min(wait, next - now());
    due.idle(mark, next ?? Number.POSITIVE_INFINITY);
  }
  // Due already but not claimed: skipped for a saturated endpoint (a completion wakes us), or
  // locked by another transaction just then. Look again soon rather than at the next poll.
  else if (next !== null && claimed === 0) wait = Math.min(wait, 1_000);
  return wait;
}

/** When a claim may scan past saturated endpoints' backlogs (LOOK_PAST_SATURATED_MS). */
interface LookPastRation {
  allowed(at: number): boolean;
  /** New work may be hidden behind the backlogs: the next claim may look. */
  reset(): void;
  /** A claim at `at` looked past them, and `found` work there or not. */
  looked(at: number, found: boolean): void;
}

function createLookPastRation(): LookPastRation {
  let last = 0;
  let delay = 0;
  return {
    allowed: (at) => at - last >= delay,
    reset() {
      delay = 0;
    },
    looked(at, found) {
      last = at;
      delay = found ? 0 : Math.min(Math.max(delay * 2, LOOK_PAST_SATURATED_MS[0]), LOOK_PAST_SATURATED_MS[1]);
    },
  };
}

/** The loop's sleep, which a wake-up ends at once (or skips, when it came while the loop was claiming). */
interface Sleeper {
  sleep(ms: number, signal: AbortSignal): Promise<void>;
  wakeUp(): void;
  /** A new round starts: wake-ups before it are spent. */
  clear(): void;
}

function createSleeper(): Sleeper {
  let wake: (() => void) | undefined;
  let woken = false;
  return {
    async sleep(ms, signal) {
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
    },
    wakeUp() {
      woken = true;
      wake?.();
    },
    clear() {
      woken = false;
    },
  };
}
