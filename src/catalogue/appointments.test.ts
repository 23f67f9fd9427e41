import { describe, expect, it } from "vitest";
import { ruleFor } from "../schedule/changes.js";
import { appointmentOf, appointmentTime } from "./appointments.js";

describe("the appointment an object concerns", () => {
  it("an event is its own appointment, with no participant", () => {
    expect(appointmentOf("event", { event: { id: 40211 } })).toEqual({ appointment: "40211", participant: null });
  });

  it("a participant's is its event_id, else its nested event's id, with the participant's id", () => {
    expect(appointmentOf("participant", { participant: { id: 7, event_id: 40211 } })).toEqual({ appointment: "40211", participant: "7" });
    expect(appointmentOf("participant", { participant: { id: 7, event: { id: 40212 } } })).toEqual({ appointment: "40212", participant: "7" });
  });

  it("a booking request's is the occurrence it selected; a message's, its participant's event", () => {
    expect(appointmentOf("booking_request", { booking_request: { token: "t", occurrence_selected_event_id: 5 } })).toEqual({
      appointment: "5",
      participant: null,
    });
    expect(appointmentOf("message", { message: { id: 1, participant: { id: 3, event_id: 9 } } })).toEqual({ appointment: "9", participant: "3" });
  });

  it("objects about no appointment name none", () => {
    expect(appointmentOf("phone", { phone: "+15552013344" })).toEqual({ appointment: null, participant: null });
    expect(appointmentOf("participant", { participant: { id: 7 } })).toEqual({ appointment: null, participant: null });
  });

  it("a timing's `at` is the appointment's start or end as each object carries it", () => {
    expect(appointmentTime("participant", "participant.event.start_time")).toBe("start_time");
    expect(appointmentTime("booking_request", "booking_request.end_time")).toBe("end_time");
    expect(appointmentTime("message", "message.started")).toBeUndefined();
  });
});

describe("what a later event does to the appointment's waiting instances", () => {
  it("deleted events cancel, updated ones move, a participant leaving cancels theirs, others nothing", () => {
    expect(ruleFor("event.deleted", {})).toEqual({ cancel: "appointment" });
    expect(ruleFor("event.updated", { event: { id: 1 } })).toEqual({ move: true });
    expect(ruleFor("event.updated", { event: { id: 1, is_deleted: true } })).toEqual({ cancel: "appointment" });
    expect(ruleFor("participant.canceled_booking", {})).toEqual({ cancel: "participant" });
    expect(ruleFor("participant.confirmed", {})).toBeUndefined();
  });
});
