/** The API's shapes, taken from the server's own schemas (type-only: nothing of the server reaches the browser). */
import type { z } from "zod";
import type { ActionOut, InstanceDetailOut, InstanceOut, TriggerOut } from "../../src/client/index.js";
import type { SessionOut, TriggerTypeOut } from "../../src/http/routes.js";
import type { StatsOut } from "../../src/log/stats.js";
import type { ConditionOp } from "../../src/match/conditions.js";
import type { QuietHours, Timing } from "../../src/schedule/timing.js";

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

export type { QuietHours, Timing };
export type Weekday = NonNullable<QuietHours["days"]>[number];
export type InstanceState = InstanceOut["state"];
