/**
 * Matching: which actions an event runs. An event fires its own trigger type and, for specific
 * state types, the "(any state)" type too (catalogue `fires`). Every enabled action of every
 * enabled trigger of those types gets one instance; disabled ones get nothing.
 */
import { type TriggerTypeName, triggerType } from "../catalogue/trigger-types.js";
import { perTransaction } from "../db/per-transaction.js";
import { prepare } from "../db/prepared.js";
import type { Executor } from "../db/schema.js";
import { type Schedule, scheduleOf } from "../schedule/plan.js";

export interface FiredAction {
  actionId: string;
  actionType: string;
  /** The type of the trigger that fired: the event's own, or the derived "(any state)" one. */
  triggerType: TriggerTypeName;
  /** The action's timing and quiet hours. */
  schedule: Schedule;
}

type FiredRow = Omit<FiredAction, "schedule"> & { timing: string | null; quiet_hours: string | null };

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
      "actions.timing as timing",
      "actions.quiet_hours as quiet_hours",
    ])
    .where("triggers.account_id", "=", p.accountId)
    .where("triggers.type", "in", [p.type, p.alsoFires])
    .where("triggers.enabled", "=", 1)
    .where("actions.enabled", "=", 1)
    .orderBy("actions.id"),
);

/**
 * Read once per account and type for the life of one transaction (db/per-transaction.ts): the
 * single-event ingests sharing a commit are mostly one account's events of a few types. Triggers
 * and actions are written only outside the committer's transactions.
 */
const firedIn = perTransaction((db, key) => {
  const [accountId = "", type = "", alsoFires = ""] = key.split("\n");
  return firedActions(db, { accountId, type, alsoFires }).then(({ rows }) =>
    rows.map(({ timing, quiet_hours, ...fired }): FiredAction => ({ ...fired, schedule: scheduleOf({ timing, quiet_hours }) })),
  );
});

/** The actions an event of `type` runs; the list is shared by the callers in one transaction: read it, never change it. */
export function findFiredActions(db: Executor, accountId: string, type: TriggerTypeName): Promise<readonly FiredAction[]> {
  const { fires } = triggerType(type);
  if (fires.length > 2) throw new Error(`trigger type ${type} fires ${fires.length} types; matching takes one or two`);
  return firedIn(db)(`${accountId}\n${type}\n${fires[1] ?? type}`);
}
