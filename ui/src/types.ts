/** The API's shapes, taken from the server's own schemas (type-only: nothing of the server reaches the browser). */
import type { z } from "zod";
import type { ActionOut, InstanceDetailOut, InstanceOut, TriggerOut } from "../../src/client/index.js";
import type { SessionOut, TriggerTypeOut } from "../../src/http/routes.js";
import type { StatsOut } from "../../src/log/stats.js";

export type { ActionOut, InstanceDetailOut, InstanceOut, StatsOut, TriggerOut };
export type TriggerType = z.output<typeof TriggerTypeOut>;
export type Session = z.output<typeof SessionOut>;
export type List<T> = { data: T[] };
