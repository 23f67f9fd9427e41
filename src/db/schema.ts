/**
 * The database schema as plain interfaces (Kysely). Portable column choices so the PostgreSQL
 * dialect needs no service changes: times are epoch milliseconds (bigint), flags are 0/1
 * integers, structured values are JSON text.
 */
import type { ColumnType, Generated, Insertable, InsertQueryBuilder, InsertResult, Kysely, Selectable, Transaction } from "kysely";

/** A bigint column read back as a number (PostgreSQL's driver is told to parse int8 as number). */
type Millis = ColumnType<number, number, number>;
export type Flag = 0 | 1;

export interface AccountTable {
  id: string;
  name: string;
  /** Where notices go (an action failing for a long time); null: none are sent. */
  notification_email: string | null;
  /** IANA zone that quiet hours fall back on (schedule/quiet-hours.ts). */
  time_zone: ColumnType<string, string | undefined, string>;
  created_at: Millis;
}

export interface ApiKeyTable {
  id: string;
  account_id: string;
  /** sha256 of the key: keys are 256-bit random, so a fast hash is not guessable. */
  key_hash: string;
  /** First characters of the key, to tell keys apart in listings without revealing them. */
  prefix: string;
  created_at: Millis;
}

export interface TriggerTable {
  id: string;
  account_id: string;
  name: string;
  type: string;
  description: string | null;
  enabled: Flag;
  /** JSON of match/conditions.ts's ConditionsSchema; null: fires on the type alone. */
  conditions: string | null;
  created_at: Millis;
  updated_at: Millis;
}

export interface ActionTable {
  id: string;
  account_id: string;
  trigger_id: string;
  name: string;
  type: "webhook" | "sms" | "email";
  enabled: Flag;
  /** Type-specific settings as JSON: {url} for webhook, {to, body} for sms, {to, subject, body} for email. */
  settings: string;
  secret: string;
  /** The secrets rotated away, each signing for 24 h after its rotation: JSON (actions/signing-secrets.ts). */
  previous_secrets: string;
  /** When its instances began failing with no success since (null while it works). */
  failing_since: Millis | null;
  /** When the account was told it is failing (null: not yet, or it recovered). */
  failing_notified_at: Millis | null;
  /** JSON of schedule/timing.ts `Timing`; null: at once. */
  timing: string | null;
  /** JSON of schedule/timing.ts `QuietHours` (sms, email); null: none. */
  quiet_hours: string | null;
  created_at: Millis;
  updated_at: Millis;
}

export interface EventTable {
  id: string;
  account_id: string;
  type: string;
  /** JSON of the trigger's object (data[objectKey]), stored once and spliced into each payload. */
  object: string;
  idempotency_key: string | null;
  created_at: Millis;
}

/**
 * `suppressed`: a message not sent because its recipient is on the account's stop list; `canceled`
 * and `skipped`: a scheduled instance a later event canceled, or whose time had passed (schedule/).
 * All three are final, like succeeded and failed.
 */
export type InstanceState = "pending" | "retrying" | "succeeded" | "failed" | "suppressed" | "canceled" | "skipped";

export interface InstanceTable {
  /** Also the payload's apptoto_id and the webhook-id header: stable across retries and resends. */
  id: string;
  account_id: string;
  action_id: string;
  event_id: string;
  trigger_type: string;
  /** The type of the trigger the event was ingested as (differs for derived "(any state)" firings). */
  event_type: string;
  object_key: string;
  state: InstanceState;
  sent: Flag;
  delivered: Flag;
  /** Attempts in all, across resends. */
  attempts: number;
  /** A resend starts a new series; the attempt cap applies per series. */
  series: number;
  series_attempts: number;
  next_attempt_at: Millis;
  lease_until: Millis | null;
  /** The claim holding the lease (see queue/claim.ts); null when none does. */
  lease_token: string | null;
  last_status: number | null;
  last_error: string | null;
  /** Why it waits, or ended as it did, in words for the log (suppressed, canceled, skipped, scheduled); null otherwise. */
  reason: string | null;
  /** 1: a test send (POST /actions/{id}/test), left out of the action's figures and failing spell. */
  test: Flag;
  /** The appointment (event id) and participant it concerns, from the catalogue (catalogue/appointments.ts). */
  appointment: string | null;
  participant: string | null;
  /** The zone its action's quiet hours were resolved in at ingest; its retries keep them. */
  quiet_zone: string | null;
  created_at: Millis;
  updated_at: Millis;
}

export interface AttemptTable {
  id: string;
  instance_id: string;
  account_id: string;
  series: number;
  number: number;
  started_at: Millis;
  duration_ms: number;
  outcome: "succeeded" | "retry" | "failed" | "suppressed";
  /**
   * JSON of what was sent (AttemptResult.request): {method, url, headers} for a webhook, whose body
   * is the instance's payload, identical on every attempt; the form fields too for an SMS.
   */
  request: string;
  response_status: number | null;
  response_headers: string | null;
  response_body: string | null;
  response_body_truncated: Flag;
  error: string | null;
}

export type StopListKind = "phone" | "email";

/** An account's stop list: recipients its messages are not sent to (stoplist.* events keep it). */
export interface StopListTable {
  account_id: string;
  kind: StopListKind;
  /** A phone in E.164, an email lowercased: as a send compares it. */
  value: string;
  added_at: Millis;
}

/** One-time sign-in links (`hookline login-link`): stored hashed, valid once, for 15 minutes. */
export interface LoginTokenTable {
  token_hash: string;
  account_id: string;
  expires_at: Millis;
  used_at: Millis | null;
}

/** Browser sessions of the web UI: the cookie holds the id, the table its hash. */
export interface SessionTable {
  id_hash: string;
  account_id: string;
  /** Double-submit CSRF token: also in a readable cookie, echoed by the UI in X-Hookline-CSRF. */
  csrf: string;
  expires_at: Millis;
  created_at: Millis;
}

export interface Database {
  accounts: AccountTable;
  api_keys: ApiKeyTable;
  triggers: TriggerTable;
  actions: ActionTable;
  events: EventTable;
  instances: InstanceTable;
  attempts: AttemptTable;
  stop_list: StopListTable;
  login_tokens: LoginTokenTable;
  sessions: SessionTable;
}

export type Db = Kysely<Database>;
export type Tx = Transaction<Database>;

/**
 * The tables a committer unit never writes: the units of one transaction share their reads of them
 * (per-transaction.ts), which a write in between would leave stale. The API writes them outside the
 * committer (`Db | Tx`); the one write to `actions` in a unit, an action's failing spell, is SQL
 * of its own on columns no shared read keeps (queue/complete.ts `startFailingSpell`).
 */
export type SharedReadTable = "triggers" | "actions";
export type UnitWritableTable = Exclude<keyof Database & string, SharedReadTable>;

// Kysely's own result types for a write, without restating them: only the table names narrow.
declare const kysely: Db;
type UpdateOf<T extends UnitWritableTable> = ReturnType<typeof kysely.updateTable<T>>;
type DeleteOf<T extends UnitWritableTable> = ReturnType<typeof kysely.deleteFrom<T>>;
/** Ways to write that would go around the narrowed ones (unused by units). */
type OtherWrites =
  | "replaceInto"
  | "mergeInto"
  | "with"
  | "withRecursive"
  | "withSchema"
  | "withPlugin"
  | "withoutPlugins"
  | "withTables"
  | "connection"
  | "transaction"
  | "startTransaction";

/**
 * Repositories take an Executor: a plain handle, the transaction the caller is in, or a committer
 * unit's transaction (committer.ts `Work`), which cannot write triggers or actions: the compiler
 * refuses `trx.updateTable("actions")` in a unit, and the unit's transaction is no `Db | Tx`, so it
 * cannot be passed to the functions that write them either.
 */
export interface Executor extends Omit<Db, "insertInto" | "updateTable" | "deleteFrom" | OtherWrites> {
  insertInto<T extends UnitWritableTable>(table: T): InsertQueryBuilder<Database, T, InsertResult>;
  updateTable<T extends UnitWritableTable>(table: T): UpdateOf<T>;
  deleteFrom<T extends UnitWritableTable>(table: T): DeleteOf<T>;
}

/** A committer unit's transaction (committer.ts `Work`): an Executor that is a transaction. */
export interface UnitTx extends Executor {
  readonly isTransaction: true;
}

export type AccountRow = Selectable<AccountTable>;
export type TriggerRow = Selectable<TriggerTable>;
export type ActionRow = Selectable<ActionTable>;
export type EventRow = Selectable<EventTable>;
export type InstanceRow = Selectable<InstanceTable>;
export type NewInstance = Insertable<InstanceTable>;
export type NewEvent = Insertable<EventTable>;
export type AttemptRow = Selectable<AttemptTable>;
export type NewAttempt = Insertable<AttemptTable>;
export type { Generated };
