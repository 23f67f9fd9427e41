import { randomBytes } from "node:crypto";
import { Webhook } from "standardwebhooks";
import { expect, it } from "vitest";
import { signatureHeaders } from "./signing.js";

const secret = () => `whsec_${randomBytes(32).toString("base64")}`;
const payload = JSON.stringify({ type: "appointment.created", data: { appointment: { id: "a1", notes: "ünïcödé ✓" } } });

it("signs exactly as the standardwebhooks package does, and its verifier accepts the headers", () => {
  const s = secret();
  const now = Date.UTC(2026, 10, 22, 12, 0, 0);
  const headers = signatureHeaders({ id: "ins_1", payload, now }, [s]);
  expect(headers["webhook-timestamp"]).toBe(String(now / 1000));
  expect(headers["webhook-signature"]).toBe(new Webhook(s).sign("ins_1", new Date(now), payload));
  // verify() checks the timestamp against the clock: sign at the present for it.
  const fresh = signatureHeaders({ id: "ins_1", payload, now: Date.now() }, [s]);
  expect(new Webhook(s).verify(payload, fresh)).toEqual(JSON.parse(payload));
});

it("during a rotation sends both signatures, each verifiable with its own secret", () => {
  const [current, previous] = [secret(), secret()];
  const headers = signatureHeaders({ id: "ins_2", payload, now: Date.now() }, [current, previous]);
  expect(headers["webhook-signature"]?.split(" ")).toHaveLength(2);
  for (const s of [current, previous]) expect(new Webhook(s).verify(payload, headers)).toEqual(JSON.parse(payload));
  expect(() => new Webhook(secret()).verify(payload, headers)).toThrow();
});
