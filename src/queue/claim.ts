/**
 * The queue's claim: due instances leased to one worker under a token, with what an attempt needs
 * of them, and when the next one falls due.
 */
import { type RawBuilder, type SqlBool, sql } from "kysely";
import { perTransaction } from "../db/per-transaction.js";
import { prepare, prepareRows } from "../db/prepared.js";
import type { Executor, Flag, UnitTx } from "../db/schema.js";
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

/** A claim's question: how much room the worker has, per action and account, and what it holds. */
export interface ClaimQuery {
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
  /** Absent: true. */
  lookPastSaturated?: boolean;
  token: string;
  /**
   * Instances this worker holds already (an attempt in flight, or answered and waiting for its
   * record): never claimed again by it, even once their lease has run out while the database was
   * away. Claimed again, it would send a second time what it is about to record.
   */
  holding?: ReadonlySet<string>;
}

export interface ClaimResult {
  claimed: ClaimedInstance[];
  more: boolean;
  lookedPastSaturated: boolean;
  /** The actions the window held. */
  actionsDue: readonly string[];
  /** Actions with due work the window held but this claim did not take (no room for it). */
  leftBehind: string[];
}

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
 * O(backlog)), so the worker rations it while it finds nothing (claim-loop.ts).
 * Must run inside a transaction (the committer's), so choosing and leasing are one atomic step.
 * `more` says the scan window was full: more may be due for other actions. `lock`: skip rows
 * another worker is claiming (PostgreSQL shared by several workers).
 */
export async function claimDue(trx: UnitTx, query: ClaimQuery, lock = false): Promise<ClaimResult> {
  const { now, limit, saturated, saturatedAccounts = [] } = query;
  if (limit <= 0) return { claimed: [], more: false, lookedPastSaturated: false, actionsDue: query.actionsDue ?? [], leftBehind: [] };
  const leftBehind = new Set<string>();
  let size = windowSize(query);
  let candidates = await readWindow(trx, now, size, undefined, lock);
  let picked = pick(candidates, query, leftBehind);
  let lookedPastSaturated = false;
  if (picked.length === 0 && candidates.length === size && saturated.length + saturatedAccounts.length > 0 && query.lookPastSaturated !== false) {
    // Past saturated actions (rationed: claim-loop.ts), the actions found are others, whose room the last
    // window does not tell: the widest window. That scan walks past the saturated backlog whatever
    // it returns, so it should bring back as much as one claim can take.
    size = limit * 4;
    candidates = await readWindow(trx, now, size, { actions: saturated, accounts: saturatedAccounts }, lock);
    picked = pick(candidates, query, leftBehind);
    lookedPastSaturated = true;
  }
  const more = candidates.length === size;
  const seen = [...new Set(candidates.map((c) => c.action_id))];
  const claimed = picked.length === 0 ? [] : await leaseAndRead(trx, picked, now + query.leaseMs, query.token);
  return { claimed, more, lookedPastSaturated, actionsDue: seen, leftBehind: [...leftBehind] };
}

/**
 * How many rows the first window may read (a window of that many rows is full). Enough rows to fill
 * the claim from the actions that are due, without reading hundreds to pick a few when one busy
 * action is: twice what the actions the last window held can take now. A backlog of one action is
 * claimed a few rows at a time, as its attempts end and free room, so a window sized by what the
 * action could hold at most reads far more than it takes (see docs/PERFORMANCE.md, item 35).
 * Actions the last window did not show are found as its actions' rows
 * run out, or by the scan past saturated ones.
 */
function windowSize({ limit, room, actionsDue }: ClaimQuery): number {
  const roomDue = actionsDue?.reduce((sum, actionId) => sum + Math.max(0, room(actionId)), 0);
  return Math.min(limit * 4, Math.max(16, 2 * (roomDue ?? limit)));
}

/** The window's rows, leaving out `skip`'s actions and accounts when given; `size` is how many it may read. */
function readWindow(
  trx: UnitTx,
  now: number,
  size: number,
  skip: { actions: readonly string[]; accounts: readonly string[] } | undefined,
  lock: boolean,
): Promise<DueRow[]> {
  if (!skip) return (lock ? claimWindowLocked : claimWindow)(trx, { now, scan: size }).then((r) => r.rows);
  // The lists' lengths are the query's shape, built each time.
  let query = dueWindow(trx, now, size);
  if (skip.actions.length > 0) query = query.where("action_id", "not in", skip.actions);
  if (skip.accounts.length > 0) query = query.where("account_id", "not in", skip.accounts);
  return (lock ? query.forUpdate().skipLocked() : query).execute();
}

/** The candidates that fit the room, in order; the actions of those that did not fit go to `leftBehind`. */
function pick(candidates: readonly DueRow[], { limit, room, accountRoom = unlimited, holding }: ClaimQuery, leftBehind: Set<string>): string[] {
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
}

const unlimited = () => Number.POSITIVE_INFINITY;

/** Leases the picked instances under `token` until `leaseUntil`, and reads what their attempts need. */
async function leaseAndRead(trx: UnitTx, picked: readonly string[], leaseUntil: number, token: string): Promise<ClaimedInstance[]> {
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
  return claimed;
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
