/**
 * A test send: the trigger type's example payload (or a given one) through the real delivery path,
 * for one action. It is an ordinary event and instance — stored, claimed, signed, sent, recorded and
 * shown in the log like any other — marked as a test: a webhook receiver gets `x-hookline-test: true`,
 * the log says `test: true`, and the action's stats, metrics, failing spell and bulk recovery leave
 * it out. The call waits for the first attempt to return it.
 */
import { z } from "zod";
import { requireAction } from "../actions/actions.js";
import { type TriggerTypeName, triggerType } from "../catalogue/trigger-types.js";
import type { Committer } from "../db/committer.js";
import type { Db } from "../db/schema.js";
import type { IdGenerator } from "../ids.js";
import { getInstanceDetail, type InstanceDetailOut } from "../log/log.js";
import { storeEvents, validateEvent } from "./ingest.js";

export const TestSendIn = z.strictObject({ data: z.record(z.string(), z.unknown()).optional() });
export type TestSendIn = z.output<typeof TestSendIn>;

export interface TestSendDeps {
  db: Db;
  committer: Committer;
  newId: IdGenerator;
  now: () => number;
  onInstances: (actionIds: readonly string[]) => void;
  /** How long to wait for the first attempt: longer than one attempt can take. */
  waitMs: number;
}

/** A test send runs at once, whatever the action's timing and quiet hours. */
const AT_ONCE = { timing: null, quietHours: null } as const;

export async function testSend(deps: TestSendDeps, accountId: string, actionId: string, input: TestSendIn): Promise<InstanceDetailOut> {
  const action = await requireAction(deps.db, accountId, actionId);
  const trigger = await deps.db.selectFrom("triggers").select("type").where("id", "=", action.trigger_id).executeTakeFirstOrThrow();
  const type = trigger.type as TriggerTypeName;
  const event = validateEvent({ type, data: input.data ?? triggerType(type).example });
  const stored = await deps.committer.run((trx) =>
    storeEvents(trx, deps, accountId, [event], { actionId, actionType: action.type, triggerType: type, schedule: AT_ONCE }),
  );
  // Without an idempotency key it is never refused.
  if (stored instanceof Error) throw stored;
  deps.onInstances([actionId]);
  const instanceId = stored[0]?.instanceIds[0] as string;
  const deadline = deps.now() + deps.waitMs;
  for (;;) {
    const detail = await getInstanceDetail(deps.db, accountId, instanceId, deps.now());
    if (detail.attempt_log.length > 0 || deps.now() > deadline) return detail;
    await new Promise((r) => setTimeout(r, 25));
  }
}
