/**
 * Ready-made webhook bodies for the destinations the source documents name:
 *  - slack: a Slack incoming webhook answers 400 `no_text` unless the body has `text`, so the body is
 *    `{"text": "<trigger label>: <a one-line summary of the object>"}`;
 *  - zapier: the documented payload flattened to one level (`participant_event_title`), which reads
 *    well in Zapier's field picker.
 * Both are ordinary body templates; the user can edit them after choosing.
 */
import { type ObjectKey, type TriggerTypeName, triggerType } from "../catalogue/trigger-types.js";

export const PRESET_IDS = ["slack", "zapier"] as const;
export type PresetId = (typeof PRESET_IDS)[number];

const SUMMARY: Record<ObjectKey, string> = {
  event: "{{ event.title }}, {{ event.day_and_time_phrase }}{% if event.location %} at {{ event.location }}{% endif %}",
  participant: "{{ participant.name }} ({{ participant.state }}) for {{ event.title }}, {{ event.day_and_time_phrase }}",
  booking_page: "{{ booking_page.name }} {{ booking_page.url }}",
  booking_request: "{{ booking_request.contact_info.name }} booked {{ booking_request.day_and_time_phrase }} ({{ booking_request.contact_info.email }})",
  message: "{{ message.comm_type }} message to {{ participant.name }} ({{ participant.phone }}{{ participant.email }})",
  phone: "{{ phone }}",
  email: "{{ email }}",
};

/** `{"a_b": {{ a.b | json }}, …}` for every leaf of the example object, in its order. */
function flatTemplate(objectKey: string, example: unknown): string {
  const fields: string[] = [];
  const walk = (value: unknown, path: string[]) => {
    if (value !== null && typeof value === "object" && !Array.isArray(value)) {
      for (const [k, v] of Object.entries(value)) walk(v, [...path, k]);
      return;
    }
    fields.push(`  ${JSON.stringify(path.join("_"))}: {{ ${path.join(".")} | json }}`);
  };
  walk(example, [objectKey]);
  fields.push('  "apptoto_id": "{{ apptoto_id }}"');
  return `{\n${fields.join(",\n")}\n}`;
}

export interface Preset {
  id: PresetId;
  name: string;
  description: string;
  body: string;
}

export function presetsFor(type: TriggerTypeName): Preset[] {
  const t = triggerType(type);
  return [
    {
      id: "slack",
      name: "Slack incoming webhook",
      description: "Posts a one-line message to a Slack channel. Paste the incoming webhook URL from Slack.",
      body: `{"text": "*${t.label}*: ${SUMMARY[t.objectKey]}"}`,
    },
    {
      id: "zapier",
      name: "Zapier catch hook",
      description: "Sends the payload flattened to one level, so every field is easy to pick in Zapier. Paste the catch hook URL.",
      body: flatTemplate(t.objectKey, t.example[t.objectKey]),
    },
  ];
}

export function presetBody(id: PresetId, type: TriggerTypeName): string {
  return (presetsFor(type).find((p) => p.id === id) as Preset).body;
}
