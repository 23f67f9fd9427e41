/**
 * Instances: one execution of one action for one event. This module owns their lifecycle in the
 * database — creation at ingest, claiming by the worker with a lease, and completion — so the
 * queue's rules live in one place.
 */
import { type RawBuilder, type SqlBool, sql } from "kysely";
import { perTransaction } from "../db/per-transaction.js";
import { prepare, prepareRows } from "../db/prepared.js";
import type { Executor, Flag, InstanceRow, InstanceState, UnitTx } from "../db/schema.js";
import { storedQuietWindow } from "../schedule/plan.js";
import type { QuietWindow } from "../schedule/quiet-hours.js";

/**
 * "Unfinished": the predicate of the partial index `instances_claim` (migration 005), written as the
 * same literal SQL. SQLite uses a partial index only when the query repeats its WHERE term; with
 * bound parameters instead of literals it scanned the whole table on every claim.
 */
export const UNFINISHED: RawBuilder<SqlBool> = sql<SqlBool>`state in ('pending', 'retrying')`;

/** What the worker needs to make one attempt: the instance, its action and its event's object. */
export interface ClaimedInstance {
  id: string;
  accountId: string;
  actionId: string;
  actionType: "webhook" | "sms" | "email";
  settings: string;
  secret: string;
  /** The secrets rotated away, as stored (actions/signing-secrets.ts). */
  previousSecrets: string;
  objectKey: string;
  object: string;
  series: number;
  seriesAttempts: number;
  attempts: number;
  createdAt: number;
  /** 1: a test send, marked as such to its receiver (webhook.ts) and left out of the action's figures. */
  test: Flag;
  /** Names this claim: the worker renews and completes the instance by it (see renewLeases). */
  leaseToken: string;
  /** Its action's quiet hours in the zone resolved at ingest: a retry falling inside them waits (null: none). */
  quiet: QuietWindow | null;
}

/** What an attempt needs of its action (sealed as stored). */
export type ActionSending = Pick<ClaimedInstance, "settings" | "secret" | "previousSecrets">;

/** Its columns, read by a claim and by a hand-off at ingest. */
const ACTION_SENDING = ["actions.settings as settings", "actions.secret as secret", "actions.previous_secrets as previousSecrets"] as const;

/** Hot (once per action per claim, and per ingest unit handing instances over): prepared once (db/prepared.ts). */
const actionSending = prepare<{ id: string }, ActionSending>((db, p) => db.selectFrom("actions").select(ACTION_SENDING).where("id", "=", p.id));

/**
 * The action's part of a ClaimedInstance, read once per action for the life of one transaction
 * (db/per-transaction.ts): a claim of 64 rows of one action, or a batch of 100 events handed over at
 * ingest, had read (and kept, until each attempt ended) the same sealed strings once per instance.
 * What it reads (settings and secrets) never changes inside the committer's transactions: the API
 * writes those outside them, and the attempt records written there touch only an action's failing
 * spell. The caller found the action in the same transaction; gone, it was deleted meanwhile, and
 * the unit fails (and is tried again) as an insert referring to it would.
 */
export const sendingReader = perTransaction<ActionSending>((db, actionId) =>
  actionSending(db, { id: actionId }).then(({ rows: [row] }) => {
    if (!row) throw new Error(`action ${actionId} was deleted during this transaction`);
    return row;
  }),
);

/** The earliest due instances, unleased or with their lease run out: a claim's window. */
const dueWindow = (db: Executor, now: number, scan: number) =>
  db
    .selectFrom("instances")
    .select(["id", "action_id", "account_id"])
    .where(UNFINISHED)
    .where("next_attempt_at", "<=", now)
    .where((eb) => eb.or([eb("lease_until", "is", null), eb("lease_until", "<", now)]))
    .orderBy("next_attempt_at")
    .limit(scan);

// Hot (one per claim): prepared once (db/prepared.ts). On PostgreSQL, shared by several workers,
// rows another worker is claiming right now are skipped, not waited for (`locked`).
type DueRow = { id: string; action_id: string; account_id: string };
const claimWindow = prepare<{ now: number; scan: number }, DueRow>((db, p) => dueWindow(db, p.now, p.scan));
const claimWindowLocked = prepare<{ now: number; scan: number }, DueRow>((db, p) => dueWindow(db, p.now, p.scan).forUpdate().skipLocked());

/**
 * Hot (one per claim): the claimed instances leased, one statement per chunk, an update from a list
 * of values as `finishAttempts` below. next_attempt_at moves to the lease's end too: if this attempt
 * is lost (the worker dies), that is when the instance is due again. It also keeps instances in
 * flight out of the next claim's scan.
 */
const leaseClaimed = prepareRows<{ id: string; until: number; token: string }>(
  (db, rows) => {
    const values = sql.join(rows.map((r) => sql`(${r.id}, ${r.until}, ${r.token})`));
    const update = sql`update "instances" set
      "lease_until" = cast("v"."column2" as bigint),
      "next_attempt_at" = cast("v"."column2" as bigint),
      "lease_token" = "v"."column3"
      from (values ${values}) as "v"
      where "instances"."id" = "v"."column1"`;
    return { compile: () => update.compile(db) };
  },
  () => ["id", "until", "token"],
);

/** Hot (one per claim): what an attempt needs of the claimed instances and their events, for a list of ids. */
type ClaimedRow = Omit<ClaimedInstance, keyof ActionSending | "leaseToken" | "quiet"> & { quietHours: string | null; quietZone: string | null };
const readClaimed = prepareRows<{ id: string }, ClaimedRow>((db, rows) =>
  db
    .selectFrom(sql<{ column1: string }>`(values ${sql.join(rows.map((r) => sql`(${r.id})`))})`.as("v"))
    .innerJoin("instances", "instances.id", "v.column1")
    .innerJoin("actions", "actions.id", "instances.action_id")
    .innerJoin("events", "events.id", "instances.event_id")
    .select([
      "instances.id as id",
      "instances.account_id as accountId",
      "instances.action_id as actionId",
      "actions.type as actionType",
      "instances.object_key as objectKey",
      "events.object as object",
      "instances.series as series",
      "instances.series_attempts as seriesAttempts",
      "instances.attempts as attempts",
      "instances.created_at as createdAt",
      "instances.test as test",
      "actions.quiet_hours as quietHours",
      "instances.quiet_zone as quietZone",
    ]),
);

/**
 * Claims due instances for this worker until `now + leaseMs`, under the claim's `token`. An
 * instance is due when it is unfinished, its time has come and no live lease holds it — so
 * instances whose worker died are claimed again once their lease expires.
 *
 * At most `limit` in all, at most `room(actionId)` per action and `accountRoom(accountId)` per
 * account. The scan reads a window of the earliest due instances (its cost bounded by the window).
 * When the window holds only work of actions whose endpoint is at its concurrency limit
 * (`saturated`) or of accounts at theirs (`saturatedAccounts`), a slow endpoint's backlog, or one
 * account's, could hide the other work behind it; then, if `lookPastSaturated`, a second scan
 * leaves the saturated actions and accounts out. That scan walks past the whole backlog (it costs
 * O(backlog)), so the worker rations it while it finds nothing (worker.ts).
 * Must run inside a transaction (the committer's), so choosing and leasing are one atomic step.
 * `more` says the scan window was full: more may be due for other actions.
 */
export async function claimDue(
  trx: UnitTx,
  {
    now,
    leaseMs,
    limit,
    room,
    accountRoom = () => Number.POSITIVE_INFINITY,
    actionsDue,
    saturated,
    saturatedAccounts = [],
    lookPastSaturated = true,
    lock = false,
    token,
    holding,
  }: {
    now: number;
    leaseMs: number;
    limit: number;
    room: (actionId: string) => number;
    /** Unlimited when absent. */
    accountRoom?: (accountId: string) => number;
    /** The actions the previous claim's window held (unknown at first): with their room, they size this one's. */
    actionsDue?: readonly string[];
    saturated: readonly string[];
    saturatedAccounts?: readonly string[];
    lookPastSaturated?: boolean;
    lock?: boolean;
    token: string;
    /**
     * Instances this worker holds already (an attempt in flight, or answered and waiting for its
     * record): never claimed again by it, even once their lease has run out while the database was
     * away. Claimed again, it would send a second time what it is about to record.
     */
    holding?: ReadonlySet<string>;
  },
): Promise<{
  claimed: ClaimedInstance[];
  more: boolean;
  lookedPastSaturated: boolean;
  /** The actions the window held. */
  actionsDue: readonly string[];
  /** Actions with due work the window held but this claim did not take (no room for it). */
  leftBehind: string[];
}> {
  if (limit <= 0) return { claimed: [], more: false, lookedPastSaturated: false, actionsDue: actionsDue ?? [], leftBehind: [] };
  const leaseUntil = now + leaseMs;
  // Enough rows to fill the claim from the actions that are due, without reading hundreds to pick a
  // few when one busy action is (rows read per claim were 40 times those picked at 4 × limit): twice
  // what the actions the last window held can take now. A backlog of one action is claimed a few
  // rows at a time, as its attempts end and free room, and a window sized by what the action could
  // hold at most read 256 rows to take 33 on average (a claim's window was 7 % of the main
  // thread's time draining one: docs/PERFORMANCE.md, item 35). Actions the last window did not show are
  // found as its actions' rows run out, or by the scan past saturated ones.
  const roomDue = actionsDue?.reduce((sum, actionId) => sum + Math.max(0, room(actionId)), 0);
  const scan = Math.min(limit * 4, Math.max(16, 2 * (roomDue ?? limit)));
  // Past saturated actions (rationed: worker.ts), the actions found are others, whose room the last
  // window does not tell: the widest window. That scan walks past the saturated backlog whatever
  // it returns, so it should bring back as much as one claim can take.
  const pastSaturatedScan = limit * 4;
  /** The window's rows; `size` is how many it may read (a window of that many rows is full). */
  const window = (skip: { actions: readonly string[]; accounts: readonly string[] } | undefined, size: number): Promise<DueRow[]> => {
    if (!skip) return (lock ? claimWindowLocked : claimWindow)(trx, { now, scan: size }).then((r) => r.rows);
    // The lists' lengths are the query's shape, built each time.
    let query = dueWindow(trx, now, size);
    if (skip.actions.length > 0) query = query.where("action_id", "not in", skip.actions);
    if (skip.accounts.length > 0) query = query.where("account_id", "not in", skip.accounts);
    return (lock ? query.forUpdate().skipLocked() : query).execute();
  };
  const leftBehind = new Set<string>();
  const pick = (candidates: DueRow[]) => {
    const taken = new Map<string, number>();
    const takenOfAccount = new Map<string, number>();
    const picked: string[] = [];
    for (const c of candidates) {
      if (holding?.has(c.id)) continue;
      const n = taken.get(c.action_id) ?? 0;
      const ofAccount = takenOfAccount.get(c.account_id) ?? 0;
      if (picked.length >= limit || n >= room(c.action_id) || ofAccount >= accountRoom(c.account_id)) {
        leftBehind.add(c.action_id);
        continue;
      }
      taken.set(c.action_id, n + 1);
      takenOfAccount.set(c.account_id, ofAccount + 1);
      picked.push(c.id);
    }
    return picked;
  };
  let size = scan;
  let candidates = await window(undefined, size);
  let picked = pick(candidates);
  let lookedPastSaturated = false;
  if (picked.length === 0 && candidates.length === size && saturated.length + saturatedAccounts.length > 0 && lookPastSaturated) {
    size = pastSaturatedScan;
    candidates = await window({ actions: saturated, accounts: saturatedAccounts }, size);
    picked = pick(candidates);
    lookedPastSaturated = true;
  }
  const more = candidates.length === size;
  const seen = [...new Set(candidates.map((c) => c.action_id))];
  if (picked.length === 0) return { claimed: [], more, lookedPastSaturated, actionsDue: seen, leftBehind: [...leftBehind] };
  await leaseClaimed(
    trx,
    picked.map((id) => ({ id, until: leaseUntil, token })),
  );
  const rows = await readClaimed(
    trx,
    picked.map((id) => ({ id })),
  );
  const sendingOf = sendingReader(trx);
  const claimed: ClaimedInstance[] = [];
  for (const { quietHours, quietZone, ...r } of rows)
    claimed.push({ ...r, ...(await sendingOf(r.actionId)), leaseToken: token, quiet: storedQuietWindow(quietHours, quietZone) });
  return { claimed, more, lookedPastSaturated, actionsDue: seen, leftBehind: [...leftBehind] };
}

/** Hot (after most claims, while the worker has room): prepared once (db/prepared.ts). */
const earliestDue = prepare<Record<string, never>, { at: number | string | null }>((db) =>
  db
    .selectFrom("instances")
    .select((eb) => eb.fn.min("next_attempt_at").as("at"))
    .where(UNFINISHED),
);

/**
 * When the next unfinished instance falls due, so the worker can sleep until then. Instances in
 * flight count with their lease's end: a worker that died has its instances taken over on time.
 */
export async function nextDueAt(db: Executor): Promise<number | undefined> {
  const row = (await earliestDue(db, {})).rows[0];
  return row?.at == null ? undefined : Number(row.at);
}

/** The unfinished instances due by `now`: how many, and when the one due longest fell due (the queue /metrics reports). */
export async function dueQueue(db: Executor, now: number): Promise<{ count: number; oldestDueAt: number | undefined }> {
  const row = await db
    .selectFrom("instances")
    .select([(eb) => eb.fn.countAll<number>().as("n"), (eb) => eb.fn.min("next_attempt_at").as("oldest")])
    .where(UNFINISHED)
    .where("next_attempt_at", "<=", now)
    .executeTakeFirstOrThrow();
  return { count: Number(row.n), oldestDueAt: row.oldest == null ? undefined : Number(row.oldest) };
}

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
  now: number;
}
const FINISH_COLUMNS = ["id", "token", "state", "sent", "delivered", "nextAttemptAt", "status", "error", "now"] as const;

/**
 * Hot (one per attempt): many completions in one statement, an update from a list of values
 * (db/prepared.ts `prepareRows`), prepared once per chunk size. Only rows still leased under the
 * completion's token change, and those are returned, with their test mark. `sent` and
 * `delivered` are flags that only ever turn on here (a provider's delivery callback may already
 * have set `delivered`; a resend clears it), so the new value is ORed in. A list of values names its columns column1, column2, …
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
      "updated_at" = cast("v"."column9" as bigint)
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
 * one action has no spell left to end, and its statement was a fifth of the statements per event
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

/** Gives a claimed instance back untouched (shutdown mid-attempt): it is due again at once. */
export async function releaseLease(db: Executor, instanceId: string, leaseToken: string, now: number): Promise<void> {
  await db
    .updateTable("instances")
    .set({ lease_until: null, lease_token: null, next_attempt_at: now })
    .where("id", "=", instanceId)
    .where("lease_token", "=", leaseToken)
    .execute();
}

/**
 * Extends the leases of the claims still in flight to `until`, so an attempt that runs long (a slow
 * receiver, a record waiting for the database) is not claimed a second time by another worker.
 * Only rows still leased under these tokens move: a lease already lost stays lost, and its
 * completion will be dropped. Returns how many leases were renewed.
 */
export async function renewLeases(db: Executor, tokens: readonly string[], until: number): Promise<number> {
  if (tokens.length === 0) return 0;
  const result = await db
    .updateTable("instances")
    .set({ lease_until: until, next_attempt_at: until })
    .where("lease_token", "in", tokens)
    .where("lease_until", "is not", null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}

/**
 * What a provider's status callback found: `applied` to a sent instance; `in flight` when the
 * attempt that sent the message is still leased and not yet recorded (the callback raced its
 * record); `settled` when the instance is in no state the callback changes (failed already, or
 * waiting for a retry); `unknown` when there is no such instance.
 */
export type ProviderStatusOutcome = "applied" | "in flight" | "settled" | "unknown";

/**
 * A provider's later word on a message it accepted (SMS status callback): delivered, or failed
 * after all. Only a succeeded instance changes; anything else is left, and the outcome says why.
 */
export async function applyProviderStatus(
  db: Executor,
  id: string,
  status: { delivered: true } | { delivered: false; error: string },
  now: number,
): Promise<ProviderStatusOutcome> {
  const row = await db.selectFrom("instances").select(["state", "lease_until"]).where("id", "=", id).executeTakeFirst();
  if (!row) return "unknown";
  if (row.state !== "succeeded") {
    const leased = row.lease_until !== null && Number(row.lease_until) > now;
    return (row.state === "pending" || row.state === "retrying") && leased ? "in flight" : "settled";
  }
  await db
    .updateTable("instances")
    .set(status.delivered ? { delivered: 1, updated_at: now } : { state: "failed", delivered: 0, last_error: status.error, updated_at: now })
    .where("id", "=", id)
    .where("state", "=", "succeeded")
    .execute();
  return "applied";
}

export async function getInstanceRow(db: Executor, accountId: string, id: string): Promise<InstanceRow | undefined> {
  return db.selectFrom("instances").selectAll().where("account_id", "=", accountId).where("id", "=", id).executeTakeFirst();
}
