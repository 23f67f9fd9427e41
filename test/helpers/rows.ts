/** Rows and a minimal account for tests that work on the database below the API. */
import crypto from "node:crypto";
import { createAccount } from "../../src/accounts/accounts.js";
import { createAction } from "../../src/actions/actions.js";
import type { Db, NewEvent, NewInstance } from "../../src/db/schema.js";
import { newId } from "../../src/ids.js";
import { createLogger } from "../../src/logger.js";
import { createAddressPolicy } from "../../src/net/address-policy.js";
import { parseCidr } from "../../src/net/cidr.js";
import { createHostCheck } from "../../src/net/host-check.js";
import { createCipher } from "../../src/secrets/cipher.js";
import { createRenderPool } from "../../src/templates/render-pool.js";
import { createTrigger } from "../../src/triggers/triggers.js";

/** The save-time check of webhook hosts with loopback open, as TEST_ENV opens it. */
export const loopbackAllowed = createHostCheck(createAddressPolicy([parseCidr("127.0.0.0/8")]));

/** Renders the save-time checks of body templates; its thread starts only if one is rendered. */
export const templates = createRenderPool({ logger: createLogger("silent") });

/** An account with one enabled trigger on participant.confirmed and one enabled webhook action on it. */
export async function webhookAccount(db: Db, name: string): Promise<{ accountId: string; actionId: string }> {
  const deps = { newId, now: Date.now };
  const { account_id: accountId } = await createAccount(db, deps, name);
  const trigger = await createTrigger(db, { ...deps, limits: { maxTriggers: 10, maxActions: 10 } }, accountId, {
    name: "t",
    type: "participant.confirmed",
    enabled: true,
  });
  const action = await createAction(
    db,
    {
      ...deps,
      providers: {},
      cipher: createCipher(crypto.randomBytes(32)),
      limits: { maxActions: 10 },
      failingAfterMs: 60_000,
      hostCheck: loopbackAllowed,
      templates,
    },
    accountId,
    trigger.id,
    { name: "a", type: "webhook", url: "http://127.0.0.1:9/never-called", enabled: true, timing: null },
  );
  return { accountId, actionId: action.id };
}

/** An event row of `type` with an empty object. */
export const eventRow = (id: string, accountId: string, type = "participant.confirmed"): Required<NewEvent> => ({
  id,
  account_id: accountId,
  type,
  object: "{}",
  idempotency_key: null,
  created_at: 1,
});

/** A pending instance row of `event`'s type, not leased unless `changes` say so. */
export const instanceRow = (
  id: string,
  event: { id: string; accountId: string; actionId: string; type?: string; objectKey?: string },
  changes: Partial<Required<NewInstance>> = {},
): Required<NewInstance> => ({
  id,
  account_id: event.accountId,
  action_id: event.actionId,
  event_id: event.id,
  trigger_type: event.type ?? "participant.confirmed",
  event_type: event.type ?? "participant.confirmed",
  object_key: event.objectKey ?? "participant",
  state: "pending",
  sent: 0,
  delivered: 0,
  attempts: 0,
  series: 1,
  series_attempts: 0,
  next_attempt_at: 1,
  lease_until: null,
  lease_token: null,
  last_status: null,
  last_error: null,
  test: 0,
  reason: null,
  appointment: null,
  participant: null,
  quiet_zone: null,
  created_at: 1,
  updated_at: 1,
  ...changes,
});
