/**
 * The stop list: phones and emails an account's messages are not sent to. The platform keeps it
 * with its stoplist.phone_added / stoplist.email_added events; Hookline adds the matching *_removed
 * events (docs/API.md). Ingest applies them in the event's own transaction; a send looks its
 * recipients up and is suppressed, not sent, when one is on the list. Phones are compared in E.164,
 * emails lowercased.
 */
import { sql } from "kysely";
import { z } from "zod";
import { toE164 } from "../actions/phone.js";
import type { TriggerTypeName } from "../catalogue/trigger-types.js";
import type { Db, Executor, StopListKind, Tx, UnitTx } from "../db/schema.js";
import { NotFoundError, ValidationError } from "../errors.js";
import { iso } from "../iso.js";

export const STOP_LIST_KINDS = ["phone", "email"] as const satisfies readonly StopListKind[];

type Effect = { kind: StopListKind; change: "add" | "remove" };

/** The stop-list events, by type (the catalogue's names: a typo does not compile): which list each keeps, and how. */
const STOP_LIST_EVENTS: ReadonlyMap<string, Effect> = new Map(
  Object.entries({
    "stoplist.phone_added": { kind: "phone", change: "add" },
    "stoplist.phone_removed": { kind: "phone", change: "remove" },
    "stoplist.email_added": { kind: "email", change: "add" },
    "stoplist.email_removed": { kind: "email", change: "remove" },
  } satisfies Partial<Record<TriggerTypeName, Effect>>),
);

/** Whether an event of this type changes the stop list. */
export const changesStopList = (type: string): boolean => STOP_LIST_EVENTS.has(type);

/** A recipient as the list keeps it; undefined for a phone that is no phone number (it could match no send). */
export function stopListValue(kind: StopListKind, raw: string): string | undefined {
  return kind === "phone" ? toE164(raw) : raw.trim().toLowerCase();
}

/** An ingested event that may change the stop list: its type, its object as stored, when it came. */
export interface StopListChange {
  type: string;
  objectJson: string;
  at: number;
}

/**
 * Applies a request's stop-list events to its account's list, in order, in the ingest's
 * transaction, once none of its events was refused; other events are left alone. A repeated add
 * keeps the first one's time: the list says since when.
 */
export async function applyStopListChanges(trx: UnitTx, accountId: string, changes: readonly StopListChange[]): Promise<void> {
  for (const change of changes) {
    const effect = STOP_LIST_EVENTS.get(change.type);
    if (!effect) continue;
    const raw: unknown = JSON.parse(change.objectJson);
    const value = typeof raw === "string" ? stopListValue(effect.kind, raw) : undefined;
    if (value === undefined || value === "") continue;
    if (effect.change === "add") {
      await trx
        .insertInto("stop_list")
        .values({ account_id: accountId, kind: effect.kind, value, added_at: change.at })
        .onConflict((oc) => oc.columns(["account_id", "kind", "value"]).doNothing())
        .execute();
    } else {
      await trx.deleteFrom("stop_list").where("account_id", "=", accountId).where("kind", "=", effect.kind).where("value", "=", value).execute();
    }
  }
}

/** Of `values` (as stopListValue gives them), those on the account's list, with when each was added. */
export async function stoppedAmong(db: Executor, accountId: string, kind: StopListKind, values: readonly string[]): Promise<Map<string, number>> {
  if (values.length === 0) return new Map();
  const rows = await db
    .selectFrom("stop_list")
    .select(["value", "added_at"])
    .where("account_id", "=", accountId)
    .where("kind", "=", kind)
    .where("value", "in", values)
    .execute();
  return new Map(rows.map((r) => [r.value, Number(r.added_at)]));
}

export const StopListQuery = z.strictObject({
  kind: z.enum(STOP_LIST_KINDS).optional(),
  /** Part of the value, case-insensitive: digits of a phone, part of an email. */
  q: z.string().max(200).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
  /** The `next_cursor` of the page before. */
  cursor: z.string().max(500).optional(),
});
export type StopListQuery = z.output<typeof StopListQuery>;

export const StopListEntryOut = z.object({
  kind: z.enum(STOP_LIST_KINDS),
  value: z.string().describe("A phone in E.164, an email lowercased"),
  added_at: z.string(),
});
export const StopListOut = z.object({ data: z.array(StopListEntryOut), next_cursor: z.string().nullable() });

export const StopListEntryParams = z.object({ kind: z.enum(STOP_LIST_KINDS), value: z.string() });

/** The account's stop list, by kind then value, a page at a time. */
export async function listStopList(db: Executor, accountId: string, query: StopListQuery): Promise<z.output<typeof StopListOut>> {
  let q = db.selectFrom("stop_list").select(["kind", "value", "added_at"]).where("account_id", "=", accountId);
  if (query.kind) q = q.where("kind", "=", query.kind);
  const part = query.q === undefined ? "" : searchable(query.q);
  if (part !== "") q = q.where(sql<boolean>`"value" like ${`%${escapeLike(part)}%`} escape '\\'`);
  if (query.cursor) {
    const [kind, value] = decodeCursor(query.cursor);
    q = q.where((eb) => eb.or([eb("kind", ">", kind), eb.and([eb("kind", "=", kind), eb("value", ">", value)])]));
  }
  const rows = await q
    .orderBy("kind")
    .orderBy("value")
    .limit(query.limit + 1)
    .execute();
  const page = rows.slice(0, query.limit);
  const last = page[page.length - 1];
  return {
    data: page.map((r) => ({ kind: r.kind, value: r.value, added_at: iso(Number(r.added_at)) })),
    next_cursor: rows.length > query.limit && last ? Buffer.from(JSON.stringify([last.kind, last.value])).toString("base64url") : null,
  };
}

/** Takes a recipient off the list by hand, as a stoplist.*_removed event would; 404 when it is not on it. */
export async function removeFromStopList(db: Db | Tx, accountId: string, kind: StopListKind, raw: string): Promise<void> {
  const value = stopListValue(kind, raw) ?? raw;
  const result = await db.deleteFrom("stop_list").where("account_id", "=", accountId).where("kind", "=", kind).where("value", "=", value).executeTakeFirst();
  if (Number(result.numDeletedRows) === 0) throw new NotFoundError("stop list entry", `${kind} ${value}`);
}

/** What a search looks for: a phone's digits ("(555) 201" finds +15552013344), an email's text lowercased. */
function searchable(q: string): string {
  const trimmed = q.trim();
  return /^[+\d\s().-]+$/.test(trimmed) ? trimmed.replace(/\D/g, "") : trimmed.toLowerCase();
}

/** LIKE's wildcards taken literally, with `\` as the escape (named in the query: SQLite has no default one). */
function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

const Cursor = z.tuple([z.enum(STOP_LIST_KINDS), z.string()]);

function decodeCursor(cursor: string): [StopListKind, string] {
  try {
    const parsed = Cursor.safeParse(JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")));
    if (parsed.success) return parsed.data;
  } catch {}
  throw new ValidationError("cursor: not a cursor returned by this endpoint");
}
