/** The API's shapes, taken from the server's own schemas (type-only: nothing of the server reaches the browser). */
import type { z } from "zod";
import type { ActionOut, InstanceDetailOut, InstanceOut, TriggerOut } from "../../src/client/index.js";
import type { SessionOut, TriggerTypeOut } from "../../src/http/routes.js";
import type { StatsOut } from "../../src/log/stats.js";
import type { ConditionOp } from "../../src/match/conditions.js";

export type { ActionOut, InstanceDetailOut, InstanceOut, StatsOut, TriggerOut };
export type TriggerType = z.output<typeof TriggerTypeOut>;
export type CatalogueField = TriggerType["fields"][number];
export type FieldKind = CatalogueField["kind"];
export type Session = z.output<typeof SessionOut>;
export type List<T> = { data: T[] };

/**
 * A condition as the builder makes it, before the server checks it: the server's `Condition`
 * (a union by operator, src/match/conditions.ts) loosened to one shape, which saved conditions fit.
 */
export type { ConditionOp };
export type Scalar = string | number | boolean;
export interface ConditionLeaf {
  field: string;
  op: ConditionOp;
  value?: Scalar | Scalar[];
}
export type ConditionGroup<Item = ConditionLeaf | ConditionGroup<ConditionLeaf>> = { all: Item[] } | { any: Item[] };

/*
 * Issue 37's shapes as agreed for timing, quiet hours, and the states scheduled, canceled and
 * skipped with `scheduled_for`. The timing branch adds them to the server's schemas: once it is
 * merged, these become the server's types (`NonNullable<ActionOut["timing"]>`…) and the `& {…}`
 * widenings go.
 */
export interface Timing {
  at: string | null;
  offset: string;
  run_late: boolean;
}
export type Weekday = "mon" | "tue" | "wed" | "thu" | "fri" | "sat" | "sun";
export interface QuietHours {
  start: string;
  end: string;
  days: Weekday[] | null;
  time_zone: string | null;
  time_zone_field: string | null;
}
export type TimedAction = ActionOut & { timing?: Timing | null; quiet_hours?: QuietHours | null };
export type InstanceState = InstanceOut["state"] | "scheduled" | "canceled" | "skipped" | "suppressed";
export type ReasonedInstance<T extends InstanceOut | InstanceDetailOut> = Omit<T, "state"> & {
  state: InstanceState;
  reason?: string | null;
  scheduled_for?: string | null;
};
