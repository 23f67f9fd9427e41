/**
 * An instance's detail is read in several statements; a delivery recorded between them must not
 * show its attempt beside the state from before it (the test-send answered "pending" with an
 * attempt in its log on PostgreSQL, where each statement sees the latest commit).
 */
import type { KyselyPlugin, PluginTransformResultArgs, QueryResult, UnknownRow } from "kysely";
import { afterAll, beforeAll, expect, it } from "vitest";
import { openStore, type Store } from "../src/db/connect.js";
import { getInstanceDetail } from "../src/log/log.js";
import { eventually, startTestHookline, type TestHookline } from "./helpers/hookline.js";
import { type Receiver, startReceiver } from "./helpers/receiver.js";

let h: TestHookline;
let receiver: Receiver;
let reader: Store;

beforeAll(async () => {
  h = await startTestHookline();
  receiver = await startReceiver();
  reader = await openStore(h.databaseUrl); // its own connection, so its reads can wait for the server's writes
});
afterAll(async () => {
  await reader.close();
  await h.stop();
  await receiver.close();
});

/** Once: after reading an instance row that is still pending, waits until its attempt is committed. */
function recordedInBetween(attemptCommitted: () => Promise<boolean>): KyselyPlugin {
  let done = false;
  return {
    transformQuery: (args) => args.node,
    async transformResult({ result }: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
      const row = result.rows[0];
      if (!done && row && row.state === "pending" && "event_id" in row) {
        done = true;
        await eventually(async () => ((await attemptCommitted()) ? true : undefined));
      }
      return result;
    },
  };
}

it("shows the state that goes with its attempts when an attempt is recorded while it is read", async () => {
  const { accountId, client } = await h.account();
  // Slow enough that the first read of the row happens before the attempt is recorded.
  receiver.respond("/slow", (_req, res) => {
    setTimeout(() => res.writeHead(200).end("ok"), 300);
    return undefined;
  });
  const trigger = await client.createTrigger({ name: "t", type: "participant.confirmed" });
  const action = await client.createAction(trigger.id, { name: "a", type: "webhook", url: receiver.url("/slow") });
  await client.ingest({ type: "participant.confirmed", data: { participant: { id: 1 } } });
  const instance = await eventually(async () => (await client.log(action.id)).data[0]);

  const attemptCommitted = async () =>
    (await h.hookline.store.db.selectFrom("attempts").select("id").where("instance_id", "=", instance.id).executeTakeFirst()) !== undefined;
  const detail = await getInstanceDetail(reader.db.withPlugin(recordedInBetween(attemptCommitted)), accountId, instance.id, Date.now());

  expect(detail.attempt_log).toHaveLength(1);
  expect(detail).toMatchObject({ state: "succeeded", last_status: 200, attempts: 1 });
});
