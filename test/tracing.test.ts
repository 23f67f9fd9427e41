/**
 * OpenTelemetry: with HOOKLINE_OTLP_ENDPOINT set, ingest and delivery are exported as spans over
 * OTLP/HTTP to a collector (here a loopback receiver reading the JSON the exporter sends).
 */
import { afterAll, expect, it } from "vitest";
import { startTestHookline, type TestHookline } from "./helpers/hookline.js";
import { type Receiver, startReceiver } from "./helpers/receiver.js";

let collector: Receiver | undefined;
let h: TestHookline | undefined;
afterAll(async () => {
  await h?.stop();
  await collector?.close();
});

interface OtlpSpan {
  name: string;
  traceId: string;
  status?: { code?: number };
  attributes: { key: string; value: { stringValue?: string; intValue?: string | number } }[];
}
interface OtlpExport {
  resourceSpans: { resource: { attributes: OtlpSpan["attributes"] }; scopeSpans: { spans: OtlpSpan[] }[] }[];
}

const attribute = (attrs: OtlpSpan["attributes"], key: string) => {
  const value = attrs.find((a) => a.key === key)?.value;
  return value?.stringValue ?? (value?.intValue === undefined ? undefined : Number(value.intValue));
};

it("exports an ingest span and a delivery span per attempt, tied by the event and instance ids", async () => {
  collector = await startReceiver();
  h = await startTestHookline({ HOOKLINE_OTLP_ENDPOINT: collector.url("") });
  const { client } = await h.account();
  const trigger = await client.createTrigger({ name: "traced", type: "participant.confirmed" });
  const action = await client.createAction(trigger.id, { name: "hook", type: "webhook", url: collector.url("/hook") });
  const event = await client.ingest({ type: "participant.confirmed", data: { participant: { id: 7 } } });
  await collector.waitFor(1, "/hook");
  const [instance] = (await client.log(action.id)).data;
  // Stopping exports what the batch processor still holds.
  await h.stop();
  h = undefined;

  const exports = collector.received.filter((r) => r.path === "/v1/traces");
  expect(exports.length).toBeGreaterThan(0);
  expect(exports[0]?.headers["content-type"]).toMatch(/application\/json/);
  const batches = exports.map((r) => JSON.parse(r.body) as OtlpExport);
  const spans = batches.flatMap((b) => b.resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans)));
  expect(attribute(batches[0]?.resourceSpans[0]?.resource.attributes ?? [], "service.name")).toBe("hookline");

  const ingest = spans.find((s) => s.name === "hookline.ingest");
  expect(ingest && attribute(ingest.attributes, "hookline.event_id")).toBe(event.id);
  expect(ingest && attribute(ingest.attributes, "hookline.instances")).toBe(1);
  const deliver = spans.find((s) => s.name === "hookline.deliver");
  expect(deliver && attribute(deliver.attributes, "hookline.instance_id")).toBe(instance?.id);
  expect(deliver && attribute(deliver.attributes, "hookline.outcome")).toBe("succeeded");
  expect(deliver && attribute(deliver.attributes, "http.response.status_code")).toBe(200);
});
