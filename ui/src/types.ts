/** The API's shapes, taken from the server's own schemas (via the built client's declarations). */
import type { z } from "zod";
import type { ActionOut, InstanceDetailOut, InstanceOut, TriggerOut } from "../../dist/client/index.js";
import type { SessionOut, TriggerTypeOut } from "../../dist/http/routes.js";
import type { StatsOut } from "../../dist/log/stats.js";

export type { ActionOut, InstanceDetailOut, InstanceOut, StatsOut, TriggerOut };
export type TriggerType = z.output<typeof TriggerTypeOut>;
export type Session = z.output<typeof SessionOut>;
export type List<T> = { data: T[] };
