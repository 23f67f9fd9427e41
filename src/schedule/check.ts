/**
 * Save-time checks of an action's timing and quiet hours against its trigger type: `at` must be a
 * date field of the type, `time_zone_field` a text field. Also on a trigger's type change, for
 * each of its actions: a change that would leave one pointing at a field the new type lacks is
 * refused, naming the action, rather than leaving it to skip every instance.
 */
import { fieldAt } from "../catalogue/fields.js";
import type { TriggerTypeName } from "../catalogue/trigger-types.js";
import type { Executor } from "../db/schema.js";
import { ValidationError } from "../errors.js";
import { type Schedule, scheduleOf } from "./plan.js";

/** The problems of a schedule for a trigger type, each at its field path. */
export function scheduleProblems(type: TriggerTypeName, { timing, quietHours }: Schedule): { path: string; message: string }[] {
  const problems: { path: string; message: string }[] = [];
  if (timing?.at && fieldAt(type, timing.at)?.kind !== "date")
    problems.push({
      path: "timing.at",
      message: `${JSON.stringify(timing.at)} is not a date field of trigger type ${type}; GET /api/v1/trigger-types lists its fields`,
    });
  const zoneField = quietHours?.time_zone_field;
  const kind = zoneField ? fieldAt(type, zoneField)?.kind : undefined;
  if (zoneField && kind !== "text" && kind !== "any")
    problems.push({ path: "quiet_hours.time_zone_field", message: `${JSON.stringify(zoneField)} is not a text field of trigger type ${type}` });
  return problems;
}

/** Throws a 400 naming the first problem, when the schedule does not fit the type. */
export function checkSchedule(type: TriggerTypeName, schedule: Schedule, prefix = ""): void {
  const issues = scheduleProblems(type, schedule).map((p) => ({ path: `${prefix}${p.path}`, message: p.message }));
  const [first] = issues;
  if (first) throw new ValidationError(`${first.path}: ${first.message}`, { issues });
}

/** Refuses a trigger's new type when one of its actions' schedules would not fit it. */
export async function checkActionsFit(db: Executor, accountId: string, triggerId: string, type: TriggerTypeName): Promise<void> {
  const actions = await db
    .selectFrom("actions")
    .select(["id", "timing", "quiet_hours"])
    .where("account_id", "=", accountId)
    .where("trigger_id", "=", triggerId)
    .where((eb) => eb.or([eb("timing", "is not", null), eb("quiet_hours", "is not", null)]))
    .orderBy("id")
    .execute();
  for (const action of actions) {
    const [problem] = scheduleProblems(type, scheduleOf(action));
    if (problem)
      throw new ValidationError(`type: action ${action.id}'s ${problem.path} would not fit: ${problem.message}; change or remove that action's timing first`, {
        issues: [{ path: "type", message: `action ${action.id}: ${problem.message}` }],
      });
  }
}
