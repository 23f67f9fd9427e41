/** A slow or dead endpoint must not delay deliveries to healthy endpoints (PRODUCT.md, delivery semantics). */
import { afterAll, beforeAll, expect, it } from "vitest";
import { eventually, startTestHookline, type TestHookline } from "./helpers/hookline.js";
import { type Receiver, startReceiver } from "./helpers/receiver.js";

let h: TestHookline;
let receiver: Receiver;
beforeAll(async () => {
  h = await startTestHookline({ HOOKLINE_CONCURRENCY: "4", HOOKLINE_ENDPOINT_CONCURRENCY: "2", HOOKLINE_REQUEST_TIMEOUT: "10", HOOKLINE_SHUTDOWN_GRACE: "0" });
  receiver = await startReceiver();
});
afterAll(async () => {
  await h.stop();
  await receiver.close();
});

it("a hanging endpoint holds only its own slots while a healthy endpoint's events are delivered", async () => {
  const { client } = await h.account();
  const slowTrigger = await client.createTrigger({ name: "slow", type: "message.failed" });
  await client.createAction(slowTrigger.id, { name: "hangs", type: "webhook", url: receiver.url("/hang") });
  const fastTrigger = await client.createTrigger({ name: "fast", type: "message.sent" });
  await client.createAction(fastTrigger.id, { name: "healthy", type: "webhook", url: receiver.url("/fast") });
  receiver.respond("/hang", () => undefined); // never answers

  // A backlog for the hanging endpoint, larger than all delivery slots together…
  await client.ingestBatch(Array.from({ length: 20 }, (_, i) => ({ type: "message.failed" as const, data: { message: { id: i } } })));
  await receiver.waitFor(2, "/hang");
  // …then events for the healthy one: they go through while the hanging requests are still open.
  await client.ingestBatch(Array.from({ length: 10 }, (_, i) => ({ type: "message.sent" as const, data: { message: { id: 100 + i } } })));
  await receiver.waitFor(10, "/fast", 5_000);
  expect(receiver.received.filter((r) => r.path === "/hang")).toHaveLength(2); // per-endpoint cap held
  // Once the healthy deliveries' answers are processed, only the two hanging attempts remain in flight.
  await eventually(async () => (h.hookline.worker?.inFlight() === 2 ? true : undefined));
});
