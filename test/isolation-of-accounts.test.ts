/**
 * One account's dead endpoints must not delay another account's deliveries (issue 35): each account
 * takes at most HOOKLINE_ACCOUNT_CONCURRENCY of the HOOKLINE_CONCURRENCY slots.
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import { eventually, startTestHookline, type TestHookline } from "./helpers/hookline.js";
import { type Receiver, startReceiver } from "./helpers/receiver.js";

/** How soon the healthy account's delivery must arrive: the bound docs/DECISIONS.md states (Concurrency). */
const BOUND_MS = 2_000;

let h: TestHookline;
let receiver: Receiver;
beforeAll(async () => {
  // A request timeout far past the bound: today, a slot held by a hanging request frees only then.
  h = await startTestHookline({
    HOOKLINE_CONCURRENCY: "8",
    HOOKLINE_ACCOUNT_CONCURRENCY: "4",
    HOOKLINE_ENDPOINT_CONCURRENCY: "2",
    HOOKLINE_REQUEST_TIMEOUT: "30",
    HOOKLINE_SHUTDOWN_GRACE: "0",
  });
  receiver = await startReceiver();
});
afterAll(async () => {
  await h.stop();
  await receiver.close();
});

it("an account whose endpoints all hang holds only its share of the slots, and another account's delivery arrives within the bound", async () => {
  const noisy = await h.account("noisy");
  const trigger = await noisy.client.createTrigger({ name: "dead", type: "message.failed" });
  // Twenty hanging actions (as the audit's) of two slots each could take all eight slots, and their
  // 100 instances more than the sixteen a worker holds; more actions than the account may hold, so
  // most have nothing held when their backlog is claimed.
  const hanging = Array.from({ length: 20 }, (_, i) => `/hang/${i + 1}`);
  for (const path of hanging) {
    receiver.respond(path, () => undefined); // never answers
    await noisy.client.createAction(trigger.id, { name: path, type: "webhook", url: receiver.url(path) });
  }
  await noisy.client.ingestBatch(Array.from({ length: 5 }, (_, i) => ({ type: "message.failed" as const, data: { message: { id: i } } })));
  const hangingRequests = () => receiver.received.filter((r) => r.path.startsWith("/hang/")).length;
  await eventually(async () => (hangingRequests() >= 4 ? true : undefined));

  const quiet = await h.account("quiet");
  const healthy = await quiet.client.createTrigger({ name: "alive", type: "message.sent" });
  await quiet.client.createAction(healthy.id, { name: "healthy", type: "webhook", url: receiver.url("/healthy") });
  const sentAt = Date.now();
  await quiet.client.ingest({ type: "message.sent", data: { message: { id: 1 } } });
  const [arrived] = await receiver.waitFor(1, "/healthy", BOUND_MS);
  expect((arrived?.at ?? Number.POSITIVE_INFINITY) - sentAt).toBeLessThan(BOUND_MS);
  // The noisy account never had more than its four slots: its fifth request was never sent.
  expect(hangingRequests()).toBe(4);
});
