/**
 * The queue's completion: an attempt's end recorded on its instance (state, schedule, flags) and its
 * lease freed, batched per transaction; and an action's failing spell, which completions start and end.
 */
import { sql } from "kysely";
import { prepare, prepareRows } from "../db/prepared.js";
import type { Executor, Flag, InstanceState } from "../db/schema.js";

export interface Completion {
  instanceId: string;
  actionId: string;
  /** The claim this worker holds; a completion for a lease that was lost is dropped. */
  leaseToken: string;
  state: InstanceState;
  sent: boolean;
  delivered: boolean;
  nextAttemptAt: number;
  status: number | null;
  error: string | null;
  /** Why it ended so, for the log (a suppressed message); null otherwise. */
  reason: string | null;
  now: number;
}

// Hot (one per attempt): prepared once (db/prepared.ts). `sent` and `delivered` are flags that only
// ever turn on here (a provider's delivery callback may already have set `delivered`; a resend clears
// it), so the new value is ORed in.
/** One completion as the batched update below takes it (flags as 0/1). */
interface Finish {
  id: string;
  token: string;
  state: InstanceState;
  sent: Flag;
  delivered: Flag;
  nextAttemptAt: number;
  status: number | null;
  error: string | null;
  reason: string | null;
  now: number;
}
const FINISH_COLUMNS = ["id", "token", "state", "sent", "delivered", "nextAttemptAt", "status", "error", "now", "reason"] as const;

/**
 * Hot (one per attempt): many completions in one statement, an update from a list of values
 * (db/prepared.ts `prepareRows`), prepared once per chunk size. Only rows still leased under the
 * completion's token change, and those are returned, with their test mark. `sent` and
 * `delivered` are flags that only ever turn on here (a provider's delivery callback may already
 * have set `delivered`; a resend clears it), so the new value is ORed in. A completion without a
 * `reason` keeps the one the instance has (a resend clears it). A list of values names its columns column1, column2, …
 * in both dialects; the casts give PostgreSQL their types (its parameters there are untyped).
 */
const finishAttempts = prepareRows<Finish, { id: string; test: Flag }>(
  (db, rows) => {
    const values = sql.join(rows.map((r) => sql`(${sql.join(FINISH_COLUMNS.map((column) => r[column]))})`));
    const update = sql<{ id: string; test: Flag }>`update "instances" set
      "state" = "v"."column3",
      "sent" = "sent" | cast("v"."column4" as integer),
      "delivered" = "delivered" | cast("v"."column5" as integer),
      "attempts" = "attempts" + 1,
      "series_attempts" = "series_attempts" + 1,
      "next_attempt_at" = cast("v"."column6" as bigint),
      "lease_until" = null,
      "lease_token" = null,
      "last_status" = cast("v"."column7" as integer),
      "last_error" = "v"."column8",
      "updated_at" = cast("v"."column9" as bigint),
      "reason" = coalesce("v"."column10", "reason")
      from (values ${values}) as "v"
      where "instances"."id" = "v"."column1" and "instances"."lease_token" = "v"."column2"
      returning "instances"."id", "instances"."test"`;
    return { compile: () => update.compile(db) };
  },
  () => FINISH_COLUMNS,
);
/**
 * The one write to `actions` inside a committer unit, in SQL of its own since a unit's transaction
 * cannot write the table (schema.ts `Executor`): the failing spell's columns, which none of the
 * reads a transaction's units share keeps (`sendingReader` above, match.ts `firedIn`).
 */
const startFailingSpell = prepare<{ id: string; now: number }>((db, p) => ({
  compile: () => sql`update "actions" set "failing_since" = coalesce("failing_since", ${p.now}) where "id" = ${p.id}`.compile(db),
}));
const endFailingSpell = prepare<{ id: string }>((db, p) => ({
  compile: () =>
    sql`update "actions" set "failing_since" = null, "failing_notified_at" = null where "id" = ${p.id} and "failing_since" is not null`.compile(db),
}));

/**
 * Records attempts' effects on their instances and frees their leases, in one statement per chunk.
 * Returns the instances this worker still held, whose completions took effect; any other (deleted,
 * or its lease expired and another worker took it) is left as it is.
 */
export async function completeAttempts(db: Executor, completions: readonly Completion[]): Promise<Set<string>> {
  const finished = await finishAttempts(
    db,
    completions.map((c) => ({
      id: c.instanceId,
      token: c.leaseToken,
      state: c.state,
      sent: c.sent ? 1 : 0,
      delivered: c.delivered ? 1 : 0,
      nextAttemptAt: c.nextAttemptAt,
      status: c.status,
      error: c.error,
      reason: c.reason,
      now: c.now,
    })),
  );
  const held = new Set(finished.map((r) => r.id));
  // A test send says nothing of the action's real deliveries: its example payload may succeed where
  // real events fail, or the reverse.
  const real = new Set(finished.filter((r) => r.test === 0).map((r) => r.id));
  // The actions' health, in the completions' order: a final failure starts (or continues) a failing
  // spell; a success ends it.
  const ended = spellsEnded(db);
  for (const c of completions) {
    if (!real.has(c.instanceId)) continue;
    if (c.state === "failed") {
      await startFailingSpell(db, { id: c.actionId, now: c.now });
      ended?.delete(c.actionId);
    } else if (c.state === "succeeded" && !ended?.has(c.actionId)) {
      await endFailingSpell(db, { id: c.actionId });
      ended?.add(c.actionId);
    }
  }
  return held;
}

/**
 * Counts attempts whose claim was lost before they were recorded (completeAttempts did not take
 * them: another worker claimed the instance after the lease ran out while the database was away).
 * The attempt was made, so it counts, and a message it sent stays sent (a flag that only turns on);
 * everything else — state, schedule, lease, last status, `delivered` — belongs to the claim that
 * holds the instance now. Returns the instances that still exist (their attempts can be logged).
 */
export async function countLateAttempts(db: Executor, completions: readonly Completion[]): Promise<Set<string>> {
  const counted = new Set<string>();
  // Rare (an outage longer than a lease, with another worker looking): one statement each.
  for (const c of completions) {
    const row = await db
      .updateTable("instances")
      .set({ attempts: sql`"attempts" + 1`, sent: sql`"sent" | ${c.sent ? 1 : 0}` })
      .where("id", "=", c.instanceId)
      .returning("id")
      .executeTakeFirst();
    if (row) counted.add(row.id);
  }
  return counted;
}

/**
 * The actions whose failing spell a transaction has ended and not started again since. The
 * committer records many attempts in one transaction, mostly of a few actions: a second success of
 * one action has no spell left to end, and its statement would be one more per event
 * (a round trip each on PostgreSQL). Outside a transaction nothing is remembered.
 */
const endedIn = new WeakMap<Executor, Set<string>>();
function spellsEnded(db: Executor): Set<string> | undefined {
  if (!db.isTransaction) return undefined;
  let ended = endedIn.get(db);
  if (!ended) {
    ended = new Set();
    endedIn.set(db, ended);
  }
  return ended;
}
