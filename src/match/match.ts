/**
 * Matching: which actions an event runs. An event fires its own trigger type and, for specific
 * state types, the "(any state)" type too (catalogue `fires`). Every enabled action of every
 * enabled trigger of those types whose conditions hold for the event (conditions.ts) gets one
 * instance; disabled ones get nothing.
 */
import { type TriggerTypeName, triggerType } from "../catalogue/trigger-types.js";
import { perTransaction } from "../db/per-transaction.js";
import { prepare } from "../db/prepared.js";
import type { Executor } from "../db/schema.js";
import { memoize } from "../memo.js";
import { type Schedule, scheduleOf } from "../schedule/plan.js";
import { ConditionsSchema, compileConditions, type Predicate } from "./conditions.js";

export interface FiredAction {
  actionId: string;
  actionType: string;
  /** The type of the trigger that fired: the event's own, or the derived "(any state)" one. */
  triggerType: TriggerTypeName;
  /** The action's timing and quiet hours. */
  schedule: Schedule;
}

type FiredRow = Omit<FiredAction, "schedule"> & { conditions: string | null; timing: string | null; quiet_hours: string | null };

/**
 * Hot (one per event): prepared once (db/prepared.ts). A type fires itself and at most one "(any
 * state)" type; a type that fires only itself is passed twice (an IN list's length is its shape).
 */
const firedActions = prepare<{ accountId: string; type: string; alsoFires: string }, FiredRow>((db, p) =>
  db
    .selectFrom("triggers")
    .innerJoin("actions", "actions.trigger_id", "triggers.id")
    .select([
      "actions.id as actionId",
      "actions.type as actionType",
      "triggers.type as triggerType",
      "triggers.conditions",
      "actions.timing as timing",
      "actions.quiet_hours as quiet_hours",
    ])
    .where("triggers.account_id", "=", p.accountId)
    .where("triggers.type", "in", [p.type, p.alsoFires])
    .where("triggers.enabled", "=", 1)
    .where("actions.enabled", "=", 1)
    .orderBy("actions.id"),
);

/** Conditions compiled once per distinct text (stored conditions are checked on save), not per event. */
const compiled = memoize((json: string) => compileConditions(ConditionsSchema.parse(JSON.parse(json))), 1000);

/** An account's actions for a type, each with the test its trigger's conditions make, when there are any. */
interface Fired {
  actions: readonly (FiredAction & { when?: Predicate })[];
  /** No action has a test: every event fires them all, with no work per event. */
  unconditional: boolean;
}

/**
 * Read once per account and type for the life of one transaction (db/per-transaction.ts): the
 * single-event ingests sharing a commit are mostly one account's events of a few types. Triggers
 * and actions are written only outside the committer's transactions.
 */
const firedIn = perTransaction(async (db, key): Promise<Fired> => {
  const [accountId = "", type = "", alsoFires = ""] = key.split("\n");
  const { rows } = await firedActions(db, { accountId, type, alsoFires });
  const actions = rows.map(({ conditions, timing, quiet_hours, ...fired }) => {
    const action: FiredAction = { ...fired, schedule: scheduleOf({ timing, quiet_hours }) };
    return conditions === null ? action : { ...action, when: compiled(conditions) };
  });
  return { actions, unconditional: rows.every((r) => r.conditions === null) };
});

/**
 * The actions an event of `type` with `data` runs. Without conditions the list is shared by the
 * callers in one transaction: read it, never change it.
 */
export async function findFiredActions(db: Executor, accountId: string, type: TriggerTypeName, data: unknown): Promise<readonly FiredAction[]> {
  const { fires } = triggerType(type);
  if (fires.length > 2) throw new Error(`trigger type ${type} fires ${fires.length} types; matching takes one or two`);
  const fired = await firedIn(db)(`${accountId}\n${type}\n${fires[1] ?? type}`);
  return fired.unconditional ? fired.actions : fired.actions.filter((a) => a.when === undefined || a.when(data));
}
