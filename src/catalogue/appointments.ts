/**
 * Which appointment (event id) and participant a trigger's object concerns, as data: per object
 * key, the paths that may hold each, first present wins. Instances record both, so a later event
 * about the appointment can cancel or move the ones still waiting (schedule/changes.ts). Also the
 * paths of the appointment's start and end as each object carries them: a timing relative to one
 * of those moves when the appointment does.
 */
import { valueAt } from "./fields.js";
import type { ObjectKey } from "./trigger-types.js";

interface AppointmentPaths {
  readonly appointment: readonly string[];
  readonly participant: readonly string[];
  readonly start: string | undefined;
  readonly end: string | undefined;
}

const BY_OBJECT: Partial<Record<ObjectKey, AppointmentPaths>> = {
  event: { appointment: ["event.id"], participant: [], start: "event.start_time", end: "event.end_time" },
  participant: {
    appointment: ["participant.event_id", "participant.event.id"],
    participant: ["participant.id"],
    start: "participant.event.start_time",
    end: "participant.event.end_time",
  },
  booking_request: {
    appointment: ["booking_request.occurrence_selected_event_id"],
    participant: [],
    start: "booking_request.start_time",
    end: "booking_request.end_time",
  },
  message: { appointment: ["message.participant.event_id"], participant: ["message.participant.id"], start: undefined, end: undefined },
};
const PATHS: ReadonlyMap<string, AppointmentPaths> = new Map(Object.entries(BY_OBJECT));

export interface AppointmentRef {
  appointment: string | null;
  participant: string | null;
}

function firstId(data: unknown, paths: readonly string[]): string | null {
  for (const path of paths) {
    const value = valueAt(data, path);
    if (typeof value === "number" || (typeof value === "string" && value !== "")) return String(value);
  }
  return null;
}

/** The appointment and participant an event's `data` concerns (null where it names none). */
export function appointmentOf(objectKey: string, data: unknown): AppointmentRef {
  const paths = PATHS.get(objectKey);
  if (!paths) return { appointment: null, participant: null };
  const appointment = firstId(data, paths.appointment);
  return { appointment, participant: appointment === null ? null : firstId(data, paths.participant) };
}

/** Which of the appointment's times a timing's `at` path is, for an object key: moved when the appointment's is. */
export function appointmentTime(objectKey: string, at: string): "start_time" | "end_time" | undefined {
  const paths = PATHS.get(objectKey);
  if (paths?.start === at) return "start_time";
  if (paths?.end === at) return "end_time";
  return undefined;
}
