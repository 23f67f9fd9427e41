/**
 * The trigger catalogue: every trigger type Hookline knows, as data. The API
 * (GET /api/v1/trigger-types), validation at ingest, matching, the docs and the tests all read it.
 * Types and labels: PRODUCT.md "Trigger types"; payload fields: docs/spec/webhook-notifications.txt.
 * Hookline adds stoplist.phone_removed and stoplist.email_removed, which neither lists.
 */
import { z } from "zod";
import { EXAMPLES } from "./examples.js";
import { bookingPageSchema, bookingRequestSchema, emailSchema, eventSchema, messageSchema, participantWithEventSchema, phoneSchema } from "./objects.js";

export const OBJECT_SCHEMAS = {
  event: eventSchema,
  participant: participantWithEventSchema,
  booking_page: bookingPageSchema,
  booking_request: bookingRequestSchema,
  message: messageSchema,
  phone: phoneSchema,
  email: emailSchema,
} as const;

export type ObjectKey = keyof typeof OBJECT_SCHEMAS;

interface TriggerTypeDef {
  readonly label: string;
  readonly objectKey: ObjectKey;
  readonly description: string;
  /** The "(any state)" trigger this specific state trigger also fires. */
  readonly alsoFires?: TriggerTypeName;
  /**
   * The participant's `state` in this type's example payload, where the type implies one: the
   * preview, a test send and the presets then show what the trigger will really carry, not a
   * "confirmed" participant for a cancellation.
   */
  readonly exampleState?: string;
}

const REMINDER_STATE = "participant.reminder_state_changed";
const BOOKING_STATE = "participant.booking_state_changed";

const DEFS = {
  "event.created": { label: "Appointment created", objectKey: "event", description: "New event is created" },
  "event.updated": { label: "Appointment modified", objectKey: "event", description: "Event is updated" },
  "event.deleted": { label: "Appointment deleted", objectKey: "event", description: "Event is deleted" },
  [REMINDER_STATE]: {
    label: "Participant reminder state changed (any state)",
    objectKey: "participant",
    description: "A participant's reminder state changed to any value; also fired by the specific reminder-state triggers",
  },
  "participant.invite_sent": {
    label: "Participant invite sent",
    objectKey: "participant",
    description: "An invite was sent to a participant",
    alsoFires: REMINDER_STATE,
    exampleState: "reminded",
  },
  "participant.confirmed": {
    label: "Participant confirmed",
    objectKey: "participant",
    description: "A participant confirmed",
    alsoFires: REMINDER_STATE,
    exampleState: "confirmed",
  },
  "participant.not_coming": {
    label: "Participant not coming",
    objectKey: "participant",
    description: "A participant said they are not coming",
    alsoFires: REMINDER_STATE,
    exampleState: "not_coming",
  },
  "participant.needs_reschedule": {
    label: "Participant needs to reschedule",
    objectKey: "participant",
    description: "A participant is not coming and needs to reschedule",
    alsoFires: REMINDER_STATE,
    exampleState: "not_coming_needs_reschedule",
  },
  [BOOKING_STATE]: {
    label: "Participant booking state changed (any state)",
    objectKey: "participant",
    description: "A participant's booking state changed to any value; also fired by the specific booking-state triggers",
    exampleState: "accepted",
  },
  "participant.accepted_booking": {
    label: "Participant accepted booking",
    objectKey: "participant",
    description: "A participant accepted a booking",
    alsoFires: BOOKING_STATE,
    exampleState: "accepted",
  },
  "participant.declined_booking": {
    label: "Participant declined booking",
    objectKey: "participant",
    description: "A participant declined a booking",
    alsoFires: BOOKING_STATE,
    exampleState: "declined",
  },
  "participant.canceled_booking": {
    label: "Participant canceled booking",
    objectKey: "participant",
    description: "A participant canceled a booking",
    alsoFires: BOOKING_STATE,
    exampleState: "canceled",
  },
  "participant.check_in_state_changed": {
    label: "Participant check-in state changed (any state)",
    objectKey: "participant",
    description: "A participant's check-in state changed: arrived, ontime, late or noshow",
    exampleState: "arrived",
  },
  "participant.replied": { label: "Participant replied to message", objectKey: "participant", description: "A participant replied to a message" },
  "booking_page.viewed": { label: "Booking page viewed", objectKey: "booking_page", description: "Booking page is viewed" },
  "booking_request.completed": { label: "Booking request completed", objectKey: "booking_request", description: "Booking request is completed" },
  "message.sent": { label: "Message sent", objectKey: "message", description: "A message was sent" },
  "message.received": { label: "Message received", objectKey: "message", description: "A message was received" },
  "message.failed": {
    label: "Message failed",
    objectKey: "message",
    description: "A message could not be delivered (may follow a message.sent for the same message)",
  },
  "stoplist.phone_added": { label: "Phone number added to stop list", objectKey: "phone", description: "Phone number is added to stop list" },
  "stoplist.email_added": { label: "Email added to stop list", objectKey: "email", description: "Email is added to stop list" },
  // Hookline's own additions (the platform's documents list only the additions): they take a
  // recipient off the account's stop list (stoplist/stop-list.ts).
  "stoplist.phone_removed": { label: "Phone number removed from stop list", objectKey: "phone", description: "Phone number is removed from stop list" },
  "stoplist.email_removed": { label: "Email removed from stop list", objectKey: "email", description: "Email is removed from stop list" },
} as const satisfies Record<string, Omit<TriggerTypeDef, "alsoFires"> & { alsoFires?: string }>;

export type TriggerTypeName = keyof typeof DEFS;

export const TRIGGER_TYPE_NAMES = Object.keys(DEFS) as [TriggerTypeName, ...TriggerTypeName[]];

export const triggerTypeSchema = z.enum(TRIGGER_TYPE_NAMES, {
  error: (issue) => `unknown trigger type ${JSON.stringify(issue.input)}; GET /api/v1/trigger-types lists them`,
});

export interface TriggerType extends TriggerTypeDef {
  readonly type: TriggerTypeName;
  readonly schema: z.ZodType;
  /** The `data` an ingest of this type carries: `{ <objectKey>: <example object> }`. */
  readonly example: Readonly<Record<string, unknown>>;
  /** This type and the "(any state)" type it also fires. */
  readonly fires: readonly TriggerTypeName[];
}

export const TRIGGER_TYPES: ReadonlyMap<TriggerTypeName, TriggerType> = new Map(
  TRIGGER_TYPE_NAMES.map((type) => {
    const def = DEFS[type] as TriggerTypeDef;
    const entry: TriggerType = Object.freeze({
      type,
      ...def,
      schema: z.object({ [def.objectKey]: OBJECT_SCHEMAS[def.objectKey] }),
      example: Object.freeze({
        [def.objectKey]: def.exampleState ? Object.freeze({ ...EXAMPLES.participant, state: def.exampleState }) : EXAMPLES[def.objectKey],
      }),
      fires: Object.freeze<TriggerTypeName[]>(def.alsoFires ? [type, def.alsoFires] : [type]),
    });
    return [type, entry];
  }),
);

export function triggerType(type: TriggerTypeName): TriggerType {
  const entry = TRIGGER_TYPES.get(type);
  if (!entry) throw new Error(`trigger type ${type} missing from catalogue`);
  return entry;
}
