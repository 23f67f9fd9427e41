/**
 * Schemas of the objects a trigger carries, field for field from the payload tables in
 * docs/spec/webhook-notifications.txt (a test checks they stay in step). Objects are "loose":
 * fields the platform adds beyond the table are kept and passed through to receivers.
 *
 * Required: the identity of each object (`id`, or `token` for a booking request). Everything else
 * may be missing or null, because a platform rarely has every field (an event without a location).
 * Present fields must have the documented type; a wrong type is a 400 naming the field path.
 */
import { z } from "zod";

const int = (description: string) => z.number().int().describe(description);
const str = (description: string) => z.string().describe(description);
const bool = (description: string) => z.boolean().describe(description);
/** "Dates are ISO 8601 strings with offset", e.g. 2026-04-15T12:00:00-07:00. */
const date = (description: string) => z.iso.datetime({ offset: true, local: false }).describe(description);
const opt = <T extends z.ZodType>(schema: T) => schema.nullish();

export const participantFields = {
  id: int("Participant ID"),
  event_id: opt(int("Event ID")),
  display_name: opt(str("Participant display name")),
  name: opt(str("Participant name")),
  phone: opt(str("Participant phone")),
  normalized_phone: opt(str("Participant normalized phone number")),
  email: opt(str("Participant email")),
  state: opt(
    str("Reminder or booking state: initial, accepted, declined, reminded, confirmed, not_coming, not_coming_needs_reschedule, not_coming_no_reschedule"),
  ),
};

const eventFields = {
  id: int("Event ID"),
  calendar_id: opt(int("Calendar ID")),
  calendar_name: opt(str("Calendar name")),
  external_id: opt(str("External event ID")),
  start_time: opt(date("Event start time")),
  end_time: opt(date("Event end time")),
  all_day: opt(bool("All day")),
  title: opt(str("Event title")),
  location: opt(str("Event location")),
  content: opt(str("Event content")),
  // The event table says "object"; the participant table says "array of objects". Accept both.
  custom_data: opt(z.union([z.record(z.string(), z.unknown()), z.array(z.unknown())]).describe("Custom data properties for event")),
  is_deleted: opt(bool("Indicates if event has been deleted")),
};

export const participantSchema = z.looseObject(participantFields);

/** The event as it appears inside a participant: no participants array. */
export const nestedEventSchema = z.looseObject(eventFields);

export const eventSchema = z.looseObject({
  ...eventFields,
  participants: opt(z.array(participantSchema).describe("Participants of the event")),
});

export const participantWithEventSchema = z.looseObject({
  ...participantFields,
  event: opt(nestedEventSchema.describe("The participant's event")),
});

export const bookingPageSchema = z.looseObject({
  id: int("Booking page ID"),
  name: opt(str("Booking page name")),
  url: opt(str("Booking page URL")),
});

export const bookingRequestSchema = z.looseObject({
  token: str("Booking request token"),
  state: opt(str("Booking request state")),
  appointment_type_token: opt(str("Appointment type token")),
  occurrence_selected_event_id: opt(int("Event ID of occurrence selected")),
  start_time: opt(date("Booking start time")),
  end_time: opt(date("Booking end time")),
  sign_up_page: opt(bool("Booking page is sign up page")),
  timezone: opt(str("Contact timezone")),
  field_data: opt(z.record(z.string(), z.unknown()).describe("Custom field data")),
  contact_info: opt(
    z
      .looseObject({
        name: opt(str("Contact name")),
        phone: opt(str("Contact phone")),
        email: opt(str("Contact email")),
      })
      .describe("Contact info"),
  ),
  booking_page: opt(bookingPageSchema.describe("Booking page")),
});

export const messageSchema = z.looseObject({
  id: int("Message ID"),
  participant: opt(participantSchema.describe("Participant the message was sent to or received from")),
  started: opt(date("Message started sending at")),
  comm_type: opt(str("Communication type: sms, email or call")),
  last_out: opt(date("Last message out")),
  last_in: opt(date("Last message in")),
});

export const phoneSchema = z.string().min(1).describe("Phone number");
export const emailSchema = z.string().min(1).describe("Email address");
