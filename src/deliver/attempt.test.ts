import { describe, expect, it } from "vitest";
import type { ClaimedInstance } from "../queue/claim.js";
import { attemptRecord } from "./attempt.js";
import type { AttemptResult } from "./sender.js";

const instance: ClaimedInstance = {
  id: "ins_1",
  accountId: "acc_1",
  actionId: "act_1",
  actionType: "webhook",
  settings: "{}",
  secret: "",
  previousSecrets: "[]",
  objectKey: "appointment",
  object: "{}",
  series: 1,
  seriesAttempts: 2,
  attempts: 2,
  createdAt: 0,
  test: 0,
  leaseToken: "w:1",
  quiet: null,
};

const result = (over: Partial<AttemptResult>): AttemptResult => ({
  outcome: { kind: "success" },
  sent: true,
  confirmsDelivery: true,
  request: {},
  response: { status: 200, headers: {}, body: "", truncated: false },
  startedAt: 900,
  durationMs: 100,
  ...over,
});

describe("an attempt's record", () => {
  it("a success confirmed by its target is recorded delivered, as the third attempt of its series", () => {
    const record = attemptRecord(instance, result({}), { state: "succeeded" }, 1_000);
    expect(record.completion).toMatchObject({
      instanceId: "ins_1",
      leaseToken: "w:1",
      state: "succeeded",
      delivered: true,
      error: null,
      status: 200,
      nextAttemptAt: 1_000,
    });
    expect(record.attempt).toMatchObject({ number: 3, outcome: "succeeded", started_at: 900, duration_ms: 100 });
  });

  it("a success the target has yet to confirm (an SMS accepted by its provider) is not recorded delivered", () => {
    expect(attemptRecord(instance, result({ confirmsDelivery: false }), { state: "succeeded" }, 1_000).completion.delivered).toBe(false);
  });

  it("a retry falls due after its delay and keeps the temporary failure's message", () => {
    const record = attemptRecord(
      instance,
      result({ outcome: { kind: "temporary", message: "HTTP 503" }, response: { status: 503, headers: {}, body: "", truncated: false } }),
      { state: "retrying", delayMs: 5_000 },
      1_000,
    );
    expect(record.completion).toMatchObject({ state: "retrying", nextAttemptAt: 6_000, error: "HTTP 503", status: 503, delivered: false });
    expect(record.attempt.outcome).toBe("retry");
  });

  it("a retry falling inside its action's quiet hours waits for their end", () => {
    const at = Date.parse("2026-06-01T20:55:00Z");
    const quiet = { start: 21 * 60, end: 8 * 60, days: null, zone: "UTC" };
    const record = attemptRecord(
      { ...instance, quiet },
      result({ outcome: { kind: "temporary", message: "HTTP 503" } }),
      { state: "retrying", delayMs: 10 * 60_000 },
      at,
    );
    expect(new Date(record.completion.nextAttemptAt).toISOString()).toBe("2026-06-02T08:00:00.000Z");
  });

  it("a failure records the decision's reason", () => {
    const record = attemptRecord(
      instance,
      result({ outcome: { kind: "permanent", message: "HTTP 410" } }),
      { state: "failed", reason: "gave up: HTTP 410" },
      1_000,
    );
    expect(record.completion).toMatchObject({ state: "failed", error: "gave up: HTTP 410", nextAttemptAt: 1_000 });
  });
});
