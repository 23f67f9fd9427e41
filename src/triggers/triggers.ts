/** Triggers: the event an account watches for. CRUD, always scoped to one account. */
import { z } from "zod";
import { TRIGGER_TYPES, type TriggerTypeName, triggerTypeSchema } from "../catalogue/trigger-types.js";
import type { Db, Executor, TriggerRow, Tx } from "../db/schema.js";
import { LimitReachedError, NotFoundError } from "../errors.js";
import type { IdGenerator } from "../ids.js";
import { iso } from "../iso.js";
import { type Conditions, ConditionsSchema, checkConditions } from "../match/conditions.js";
import { checkActionsFit } from "../schedule/check.js";
import { displayName, validationError } from "../validation.js";

/**
 * Conditions name fields of the trigger's type, so whether they fit is known only with the type: a
 * rule the document cannot state (contract test: RULES_BEYOND_SCHEMA).
 */
export const TriggerIn = z
  .strictObject({
    name: displayName(),
    type: triggerTypeSchema,
    description: z.string().max(2000).nullish(),
    enabled: z.boolean().default(true),
    conditions: ConditionsSchema.nullish(),
  })
  .superRefine((input, ctx) => {
    if (!input.conditions) return;
    for (const p of checkConditions(input.type, input.conditions)) ctx.addIssue({ code: "custom", path: ["conditions", ...p.path], message: p.message });
  });
export type TriggerIn = z.output<typeof TriggerIn>;

export const TriggerPatch = z.strictObject({
  name: displayName().optional(),
  type: triggerTypeSchema.optional(),
  description: z.string().max(2000).nullish(),
  enabled: z.boolean().optional(),
  /** null removes them; checked against the trigger's type, the one patched in or the stored one. */
  conditions: ConditionsSchema.nullish(),
});
export type TriggerPatch = z.output<typeof TriggerPatch>;

export const TriggerOut = z.object({
  id: z.string(),
  name: z.string(),
  type: triggerTypeSchema,
  type_label: z.string(),
  description: z.string().nullable(),
  enabled: z.boolean(),
  conditions: ConditionsSchema.nullable(),
  action_count: z.number().int(),
  created_at: z.string(),
  updated_at: z.string(),
});
export type TriggerOut = z.output<typeof TriggerOut>;

/**
 * Runs `create` (an insert into `table`) unless the account already has `max` rows there
 * (HOOKLINE_MAX_TRIGGERS / HOOKLINE_MAX_ACTIONS). The count and the insert share a transaction that
 * first writes the account's row: on PostgreSQL that locks it (FOR NO KEY UPDATE, which ingest's
 * foreign-key checks do not wait for), so one account's concurrent creates count one after another
 * instead of all passing the same count; on SQLite the transaction holds the one writer.
 */
export async function createWithinLimit<T>(db: Db, table: "triggers" | "actions", accountId: string, max: number, create: (trx: Tx) => Promise<T>): Promise<T> {
  return db.transaction().execute(async (trx) => {
    await trx
      .updateTable("accounts")
      .set((eb) => ({ name: eb.ref("name") }))
      .where("id", "=", accountId)
      .execute();
    const row = await trx
      .selectFrom(table)
      .select((eb) => eb.fn.countAll<number>().as("n"))
      .where("account_id", "=", accountId)
      .executeTakeFirstOrThrow();
    if (Number(row.n) >= max) throw new LimitReachedError(`this account has ${max} ${table}, the most allowed; delete some first`);
    return create(trx);
  });
}

/** Stored conditions: written only after checkConditions, so parsing them gives their type back. */
function storedConditions(json: string | null): Conditions | null {
  return json === null ? null : ConditionsSchema.parse(JSON.parse(json));
}

/** Refuses conditions that do not fit `type`, naming each by its path in the body. */
function requireFit(type: TriggerTypeName, conditions: Conditions | null): void {
  const problems = conditions ? checkConditions(type, conditions) : [];
  if (problems.length > 0) throw validationError(problems.map((p) => ({ path: ["conditions", ...p.path], message: p.message })));
}

function toOut(row: TriggerRow, actionCount: number): TriggerOut {
  const type = row.type as TriggerTypeName;
  return {
    id: row.id,
    name: row.name,
    type,
    type_label: TRIGGER_TYPES.get(type)?.label ?? row.type,
    description: row.description,
    enabled: row.enabled === 1,
    conditions: storedConditions(row.conditions),
    action_count: actionCount,
    created_at: iso(row.created_at),
    updated_at: iso(row.updated_at),
  };
}

export interface Deps {
  newId: IdGenerator;
  now: () => number;
  limits: { maxTriggers: number; maxActions: number };
}

function selectTriggers(db: Executor, accountId: string) {
  return db
    .selectFrom("triggers")
    .selectAll("triggers")
    .select((eb) =>
      eb
        .selectFrom("actions")
        .whereRef("actions.trigger_id", "=", "triggers.id")
        .select((e) => e.fn.countAll<number>().as("n"))
        .as("action_count"),
    )
    .where("triggers.account_id", "=", accountId);
}

export async function listTriggers(db: Executor, accountId: string): Promise<TriggerOut[]> {
  const rows = await selectTriggers(db, accountId).orderBy("triggers.id", "desc").execute();
  return rows.map((r) => toOut(r, Number(r.action_count)));
}

/** The trigger row of this account, or a 404: another account's ids are indistinguishable from unknown ones. */
export async function requireTrigger(db: Executor, accountId: string, id: string): Promise<TriggerRow> {
  const row = await db.selectFrom("triggers").selectAll().where("account_id", "=", accountId).where("id", "=", id).executeTakeFirst();
  if (!row) throw new NotFoundError("trigger", id);
  return row;
}

export async function getTrigger(db: Executor, accountId: string, id: string): Promise<TriggerOut> {
  const row = await selectTriggers(db, accountId).where("triggers.id", "=", id).executeTakeFirst();
  if (!row) throw new NotFoundError("trigger", id);
  return toOut(row, Number(row.action_count));
}

export async function createTrigger(db: Db, deps: Deps, accountId: string, input: TriggerIn): Promise<TriggerOut> {
  const now = deps.now();
  const row: TriggerRow = {
    id: deps.newId("trg"),
    account_id: accountId,
    name: input.name,
    type: input.type,
    description: input.description ?? null,
    enabled: input.enabled ? 1 : 0,
    conditions: input.conditions ? JSON.stringify(input.conditions) : null,
    created_at: now,
    updated_at: now,
  };
  await createWithinLimit(db, "triggers", accountId, deps.limits.maxTriggers, (trx) => trx.insertInto("triggers").values(row).execute());
  return toOut(row, 0);
}

export async function updateTrigger(db: Db | Tx, deps: Deps, accountId: string, id: string, patch: TriggerPatch): Promise<TriggerOut> {
  const stored = await requireTrigger(db, accountId, id);
  // A new type or new conditions: what will be stored must fit together (a stored row always does).
  if (patch.type !== undefined || patch.conditions) {
    const type = patch.type ?? triggerTypeSchema.parse(stored.type);
    requireFit(type, patch.conditions !== undefined ? patch.conditions : storedConditions(stored.conditions));
  }
  if (patch.type !== undefined) await checkActionsFit(db, accountId, id, patch.type);
  await db
    .updateTable("triggers")
    .set({
      ...(patch.name !== undefined && { name: patch.name }),
      ...(patch.type !== undefined && { type: patch.type }),
      ...(patch.description !== undefined && { description: patch.description }),
      ...(patch.enabled !== undefined && { enabled: patch.enabled ? 1 : 0 }),
      ...(patch.conditions !== undefined && { conditions: patch.conditions ? JSON.stringify(patch.conditions) : null }),
      updated_at: deps.now(),
    })
    .where("account_id", "=", accountId)
    .where("id", "=", id)
    .execute();
  return getTrigger(db, accountId, id);
}

/** Deleting a trigger deletes its actions and their log (foreign keys cascade). */
export async function deleteTrigger(db: Db | Tx, accountId: string, id: string): Promise<void> {
  const result = await db.deleteFrom("triggers").where("account_id", "=", accountId).where("id", "=", id).executeTakeFirst();
  if (Number(result.numDeletedRows) === 0) throw new NotFoundError("trigger", id);
}
