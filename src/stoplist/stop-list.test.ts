import { expect, it } from "vitest";
import { stopListValue } from "./stop-list.js";

it("keeps phones in E.164 and emails lowercased, as a send compares them", () => {
  expect(stopListValue("phone", "(555) 201-3344")).toBe("+15552013344");
  expect(stopListValue("phone", "+1 555 201 3344")).toBe("+15552013344");
  expect(stopListValue("email", " Jane.Doe@EXAMPLE.com ")).toBe("jane.doe@example.com");
  // No phone number: no send could be to it.
  expect(stopListValue("phone", "call me")).toBeUndefined();
});
