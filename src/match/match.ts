/**
 * Matching: which actions an event runs. An event fires its own trigger type and, for specific
 * state types, the "(any state)" type too (catalogue `fires`). Every enabled action of every
 * enabled trigger of those types gets one instance; disabled ones get nothing.
 */
import { type TriggerTypeName, triggerType } from "../catalogue/trigger-types.js";
import type { Executor } from "../db/schema.js";

export interface FiredAction {
  actionId: string;
  actionType: string;
  /** The type of the trigger that fired: the event's own, or the derived "(any state)" one. */
  triggerType: TriggerTypeName;
}

export async function findFiredActions(db: Executor, accountId: string, type: TriggerTypeName): Promise<FiredAction[]> {
  const rows = await db
    .selectFrom("triggers")
    .innerJoin("actions", "actions.trigger_id", "triggers.id")
    .select(["actions.id as actionId", "actions.type as actionType", "triggers.type as triggerType"])
    .where("triggers.account_id", "=", accountId)
    .where("triggers.type", "in", triggerType(type).fires)
    .where("triggers.enabled", "=", 1)
    .where("actions.enabled", "=", 1)
    .orderBy("actions.id")
    .execute();
  return rows as FiredAction[];
}
