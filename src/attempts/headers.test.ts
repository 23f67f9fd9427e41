import { expect, it } from "vitest";
import { storedHeaders } from "./headers.js";

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
