/**
 * Matching: which actions an event runs. An event fires its own trigger type and, for specific
 * state types, the "(any state)" type too (catalogue `fires`). Every enabled action of every
 * enabled trigger of those types gets one instance; disabled ones get nothing.
 */
import { type TriggerTypeName, triggerType } from "../catalogue/trigger-types.js";
import { prepare } from "../db/prepared.js";
import type { Executor } from "../db/schema.js";

export interface FiredAction {
  actionId: string;
  actionType: string;
  /** The type of the trigger that fired: the event's own, or the derived "(any state)" one. */
  triggerType: TriggerTypeName;
}

/**
 * Hot (one per event): prepared once (db/prepared.ts). A type fires itself and at most one "(any
 * state)" type; a type that fires only itself is passed twice (an IN list's length is its shape).
 */
const firedActions = prepare<{ accountId: string; type: string; alsoFires: string }, FiredAction>((db, p) =>
  db
    .selectFrom("triggers")
    .innerJoin("actions", "actions.trigger_id", "triggers.id")
    .select(["actions.id as actionId", "actions.type as actionType", "triggers.type as triggerType"])
    .where("triggers.account_id", "=", p.accountId)
    .where("triggers.type", "in", [p.type, p.alsoFires])
    .where("triggers.enabled", "=", 1)
    .where("actions.enabled", "=", 1)
    .orderBy("actions.id"),
);

export async function findFiredActions(db: Executor, accountId: string, type: TriggerTypeName): Promise<FiredAction[]> {
  const { fires } = triggerType(type);
  if (fires.length > 2) throw new Error(`trigger type ${type} fires ${fires.length} types; matching takes one or two`);
  return (await firedActions(db, { accountId, type, alsoFires: fires[1] ?? type })).rows;
}
