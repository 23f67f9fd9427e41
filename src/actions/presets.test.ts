import { expect, it } from "vitest";
import { TRIGGER_TYPE_NAMES, triggerType } from "../catalogue/trigger-types.js";
import { renderJsonBody, templateContext } from "../templates/templates.js";
import { presetsFor } from "./presets.js";

it.each(TRIGGER_TYPE_NAMES)("the presets of %s render valid JSON from its example payload", async (type) => {
  const t = triggerType(type);
  const context = templateContext(t.objectKey, t.example[t.objectKey], "ins_x");
  const [slack, zapier] = presetsFor(type);
  const slackBody = JSON.parse(await renderJsonBody(slack?.body ?? "", context)) as { text: string };
  expect(slackBody.text).toMatch(new RegExp(`^\\*${t.label.replace(/[()]/g, "\\$&")}\\*: \\S`));
  const flat = JSON.parse(await renderJsonBody(zapier?.body ?? "", context)) as Record<string, unknown>;
  expect(flat.apptoto_id).toBe("ins_x");
  for (const value of Object.values(flat)) expect(typeof value === "object" && value !== null && !Array.isArray(value)).toBe(false);
});

it("flattens nested fields for Zapier with readable keys", async () => {
  const t = triggerType("participant.confirmed");
  const [, zapier] = presetsFor("participant.confirmed");
  const flat = JSON.parse(await renderJsonBody(zapier?.body ?? "", templateContext("participant", t.example.participant, "ins_x"))) as Record<string, unknown>;
  expect(flat).toMatchObject({
    participant_name: "Jane Doe",
    participant_event_title: "Dental cleaning",
    participant_event_all_day: false,
    participant_event_custom_data_room: "2B",
  });
});
