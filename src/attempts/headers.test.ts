import { expect, it } from "vitest";
import type { AttemptResult } from "../deliver/sender.js";
import { attemptRow } from "./attempts.js";
import { storedHeaders, withStoredExchange } from "./headers.js";

it("redacts credentials and keeps the rest", () => {
  expect(
    storedHeaders({
      "content-type": "application/json",
      authorization: "Bearer abc",
      "Set-Cookie": ["session=1", "x=2"],
      "x-api-key": "k",
      "x-auth-token": "t",
      "webhook-id": "ins_1",
    }),
  ).toEqual({
    "content-type": "application/json",
    authorization: "[redacted]",
    "Set-Cookie": "[redacted]",
    "x-api-key": "[redacted]",
    "x-auth-token": "[redacted]",
    "webhook-id": "ins_1",
  });
});

it("caps the number and size of headers", () => {
  const many = Object.fromEntries(Array.from({ length: 500 }, (_, i) => [`x-h${i}`, "v".repeat(5000)]));
  const stored = storedHeaders(many);
  expect(Object.keys(stored)).toHaveLength(100);
  expect((stored["x-h0"] as string).length).toBe(1025);
});

it("stores a result serialised where it was made exactly as one serialised by the recorder", () => {
  const result: AttemptResult = {
    outcome: { kind: "success" },
    sent: true,
    confirmsDelivery: true,
    request: {
      method: "POST",
      url: "https://example.com/hook",
      headers: { "content-type": "application/json", authorization: "[redacted]", "webhook-id": "ins_1" },
    },
    response: { status: 200, headers: { "set-cookie": ["s=1"], "x-request-id": "r1" }, body: "ok", truncated: false },
    startedAt: 1_000,
    durationMs: 12,
  };
  const instance = { id: "ins_1", accountId: "acc_1", series: 1, seriesAttempts: 0 };
  const crossed = withStoredExchange(result);
  expect(crossed.request).toEqual({});
  expect(crossed.response?.headers).toEqual({});
  expect(attemptRow(instance, crossed, "succeeded")).toEqual(attemptRow(instance, result, "succeeded"));
  expect(JSON.parse(attemptRow(instance, crossed, "succeeded").response_headers ?? "")).toEqual({ "set-cookie": "[redacted]", "x-request-id": "r1" });
  // Without an answer there are no answer headers to store.
  const { response: _, ...unanswered } = result;
  expect(withStoredExchange(unanswered).stored?.responseHeaders).toBeNull();
});
