import { expect, it } from "vitest";
import { createDueWork } from "./due-work.js";

it("all work may be waiting until a claim says what it left behind; then only that, and what is announced", () => {
  const due = createDueWork(() => 0);
  expect(due.nothingWaitsFor("act_1")).toBe(false);
  due.claimed(due.mark(), ["act_2"]);
  expect(due.nothingWaitsFor("act_1")).toBe(true);
  expect(due.nothingWaitsFor("act_2")).toBe(false);
  due.announce(["act_1"]);
  expect(due.nothingWaitsFor("act_1")).toBe(false);
  due.announce();
  expect(due.nothingWaitsFor("act_3")).toBe(false);
});

it("a claim that raced an announcement does not clear what was announced", () => {
  const due = createDueWork(() => 0);
  due.claimed(due.mark(), []);
  const mark = due.mark();
  due.announce(["act_1"]);
  due.claimed(mark, []);
  expect(due.nothingWaitsFor("act_1")).toBe(false);
});

it("freed room is worth a claim only while work may wait or is due by now", () => {
  let now = 0;
  const due = createDueWork(() => now);
  due.claimed(due.mark(), []);
  expect(due.worthAClaim()).toBe(true);
  due.idle(due.mark(), 100);
  expect(due.worthAClaim()).toBe(false);
  now = 100;
  expect(due.worthAClaim()).toBe(true);
  now = 0;
  // A look that raced a change keeps nothing of what it saw.
  const mark = due.mark();
  due.changed();
  due.idle(mark, 100);
  expect(due.worthAClaim()).toBe(true);
});
