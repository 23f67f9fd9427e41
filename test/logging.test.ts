/** Secrets are never logged: API keys, signing secrets and Authorization headers stay out of the log. */
import { Writable } from "node:stream";
import { expect, it } from "vitest";
import { triggerType } from "../src/catalogue/trigger-types.js";
import { createLogger } from "../src/logger.js";
import { eventually, startTestHookline } from "./helpers/hookline.js";
import { startReceiver } from "./helpers/receiver.js";

it("logs at trace level through CRUD, ingest, failing deliveries and errors without any key or secret", async () => {
  let logged = "";
  const sink = new Writable({
    write(chunk, _encoding, done) {
      logged += chunk.toString();
      done();
    },
  });
  const h = await startTestHookline({}, { logger: createLogger("trace", sink) });
  const receiver = await startReceiver();
  receiver.respond("/err", () => ({ status: 500, body: "boom" }));
  const { client, apiKey } = await h.account();
  const trigger = await client.createTrigger({ name: "t", type: "participant.confirmed" });
  const action = await client.createAction(trigger.id, { name: "a", type: "webhook", url: receiver.url("/err") });
  const rotated = await client.rotateSecret(action.id);
  await client.ingest({ type: "participant.confirmed", data: triggerType("participant.confirmed").example as Record<string, unknown> });
  await eventually(async () => ((await client.log(action.id)).data[0]?.state === "failed" ? true : undefined));
  await fetch(`${h.baseUrl}/api/v1/triggers`, { headers: { authorization: "Bearer hl_wrong-key-that-must-not-be-logged" } });
  await fetch(`${h.baseUrl}/api/v1/events`, {
    method: "POST",
    headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" },
    body: "{bad",
  });
  await h.stop();
  await receiver.close();

  expect(logged.length).toBeGreaterThan(0);
  for (const secret of [apiKey, action.secret, rotated.secret, "hl_wrong-key-that-must-not-be-logged"]) expect(logged).not.toContain(secret);
});
