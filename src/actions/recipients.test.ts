import { describe, expect, it } from "vitest";
import { isTemplated, renderedRecipient } from "./recipients.js";

describe("recipients", () => {
  it("tells a template from a fixed recipient", () => {
    expect(isTemplated("{{ participant.phone }}")).toBe(true);
    expect(isTemplated("{% if x %}a@b.example{% endif %}")).toBe(true);
    expect(isTemplated("+15552013344")).toBe(false);
    expect(isTemplated("desk@clinic.example")).toBe(false);
  });

  it("takes a rendered phone in any form the product accepts, as E.164", () => {
    expect(renderedRecipient("phone", "{{ participant.phone }}", " (555) 201-3344\n")).toEqual({ value: "+15552013344" });
  });

  it("names the one field a template reads when it renders empty", () => {
    expect(renderedRecipient("phone", "{{ participant.phone }}", "")).toEqual({ problem: "to rendered empty: participant.phone is missing" });
    expect(renderedRecipient("email", "{{- booking_request.contact_info.email | downcase -}}", "  ")).toEqual({
      problem: "to rendered empty: booking_request.contact_info.email is missing",
    });
    expect(renderedRecipient("email", "{% if x %}{{ a }}{% endif %}", "")).toEqual({ problem: "to rendered empty ({% if x %}{{ a }}{% endif %})" });
  });

  it("refuses what renders no phone or no address, showing what it rendered", () => {
    expect(renderedRecipient("phone", "{{ participant.name }}", "Jane Doe")).toEqual({
      problem: 'to rendered "Jane Doe", which is not a phone number (+<country code><number>)',
    });
    expect(renderedRecipient("email", "{{ participant.email }}", "jane at home")).toEqual({
      problem: 'to rendered "jane at home", which is not an email address',
    });
    expect(renderedRecipient("email", "{{ participant.email }}", " Jane.Doe@Example.com ")).toEqual({ value: "Jane.Doe@Example.com" });
  });
});
