/**
 * The worker must not depend on its fallback poll: with polling set to ten minutes, new events and
 * due retries still go out at once. (On PostgreSQL a claim can run beside the transaction that
 * records a retry; the worker once missed such a retry until its next poll.)
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import { DIALECT, eventually, startTestHookline, type TestHookline } from "./helpers/hookline.js";
import { type Receiver, startReceiver } from "./helpers/receiver.js";

let h: TestHookline;
let receiver: Receiver;
beforeAll(async () => {
  h = await startTestHookline({ HOOKLINE_POLL_INTERVAL: "600" });
  receiver = await startReceiver();
});
afterAll(async () => {
  await h.stop();
  await receiver.close();
});

it(`[${DIALECT}] delivers new events and their retries without waiting for the poll`, async () => {
  const { client } = await h.account();
  const trigger = await client.createTrigger({ name: "wake", type: "participant.confirmed" });
  await client.createAction(trigger.id, { name: "flaky", type: "webhook", url: receiver.url("/flaky") });
  const tries = new Map<number, number>();
  const delivered = new Set<number>();
  receiver.respond("/flaky", (req) => {
    const id = (JSON.parse(req.body) as { participant: { id: number } }).participant.id;
    const n = (tries.get(id) ?? 0) + 1;
    tries.set(id, n);
    if (n < 3) return { status: 503 }; // two retries each
    delivered.add(id);
    return { status: 200 };
  });
  for (let batch = 0; batch < 4; batch++) {
    await client.ingestBatch(
      Array.from({ length: 100 }, (_, i) => ({ type: "participant.confirmed" as const, data: { participant: { id: batch * 100 + i } } })),
    );
  }
  await eventually(async () => (delivered.size === 400 ? true : undefined), 60_000);
  expect([...tries.values()].every((n) => n === 3)).toBe(true);
});
