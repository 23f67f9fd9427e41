/** A slow or dead endpoint must not delay deliveries to healthy endpoints (PRODUCT.md, delivery semantics). */
import { afterAll, beforeAll, expect, it } from "vitest";
import { eventually, startTestHookline, type TestHookline } from "./helpers/hookline.js";
import { type Receiver, startReceiver } from "./helpers/receiver.js";

let h: TestHookline;
let receiver: Receiver;
beforeAll(async () => {
  h = await startTestHookline({ HOOKLINE_CONCURRENCY: "6", HOOKLINE_ENDPOINT_CONCURRENCY: "2", HOOKLINE_REQUEST_TIMEOUT: "10", HOOKLINE_SHUTDOWN_GRACE: "0" });
  receiver = await startReceiver();
});
afterAll(async () => {
  await h.stop();
  await receiver.close();
});

// All three endpoints share one origin (host and port), as actions on hooks.zapier.com or
// hooks.slack.com do: the hanging ones must not take the origin's connections from the healthy one.
it("hanging endpoints hold only their own slots while a healthy endpoint on the same host is delivered", async () => {
  const { client } = await h.account();
  const slowTrigger = await client.createTrigger({ name: "slow", type: "message.failed" });
  await client.createAction(slowTrigger.id, { name: "hangs", type: "webhook", url: receiver.url("/hang") });
  await client.createAction(slowTrigger.id, { name: "hangs too", type: "webhook", url: receiver.url("/hang-too") });
  const fastTrigger = await client.createTrigger({ name: "fast", type: "message.sent" });
  await client.createAction(fastTrigger.id, { name: "healthy", type: "webhook", url: receiver.url("/fast") });
  receiver.respond("/hang", () => undefined); // never answers
  receiver.respond("/hang-too", () => undefined);

  // A backlog for the hanging endpoint, larger than all delivery slots together…
  await client.ingestBatch(Array.from({ length: 20 }, (_, i) => ({ type: "message.failed" as const, data: { message: { id: i } } })));
  await receiver.waitFor(2, "/hang");
  await receiver.waitFor(2, "/hang-too");
  // …then events for the healthy one: they go through while the hanging requests are still open.
  await client.ingestBatch(Array.from({ length: 10 }, (_, i) => ({ type: "message.sent" as const, data: { message: { id: 100 + i } } })));
  await receiver.waitFor(10, "/fast", 5_000);
  expect(receiver.received.filter((r) => r.path === "/hang")).toHaveLength(2); // per-endpoint cap held
  expect(receiver.received.filter((r) => r.path === "/hang-too")).toHaveLength(2);
  // Once the healthy deliveries' answers are processed, only the four hanging attempts remain in flight.
  await eventually(async () => (h.hookline.worker?.inFlight() === 4 ? true : undefined));
});
