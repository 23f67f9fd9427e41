import { Pool } from "undici";
import { afterAll, expect, it } from "vitest";
import { type BenchReceiver, startBenchReceiver } from "./harness.js";

let receiver: BenchReceiver | undefined;
const pools: Pool[] = [];
afterAll(async () => {
  await Promise.all(pools.map((p) => p.close()));
  await receiver?.close();
});

/** One pool per "server process": its connections are only ever its own. */
function sender(url: string) {
  const pool = new Pool(new URL(url).origin, { connections: 1 });
  pools.push(pool);
  return async (id: number) => {
    const res = await pool.request({ method: "POST", path: "/soak", body: JSON.stringify({ participant: { id } }) });
    await res.body.dump();
    expect(res.statusCode).toBe(200);
  };
}

// Judged by time ("a kill between its first arrival and its repeat"), a duplicate of a delivery in
// flight at a kill can look unexplained: the receiver reads a request the killed server sent just
// before it died only after the kill.
it("traces each delivery to the server that sent it by its connection, not by when it arrived", async () => {
  receiver = await startBenchReceiver();
  const killed = sender(receiver.url("/soak"));
  await killed(1);
  await killed(2); // opens the connection before the kill

  receiver.nextSender(); // the soak's kill -9, before the next server starts
  await killed(3); // sent before it died, read after: still the killed server's
  const restarted = sender(receiver.url("/soak"));
  await restarted(1);
  await restarted(3);
  await restarted(4);
  await restarted(4); // the same server twice: not a kill's duplicate

  expect(receiver.repeats.map(({ key, firstSender, againSender }) => ({ key, firstSender, againSender }))).toEqual([
    { key: "/soak|1", firstSender: 0, againSender: 1 },
    { key: "/soak|3", firstSender: 0, againSender: 1 },
    { key: "/soak|4", firstSender: 1, againSender: 1 },
  ]);
});
