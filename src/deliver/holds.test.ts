import { describe, expect, it } from "vitest";
import { createHolds } from "./holds.js";

const limits = { perAction: 2, perAccount: 3, all: 4 };

describe("a worker's holds", () => {
  it("an action's room shrinks with each instance held and is bounded by its account's", () => {
    const holds = createHolds(limits, () => {});
    expect(holds.room("a")).toBe(2);
    holds.take("a", "acc", "c1");
    expect(holds.room("a")).toBe(1);
    holds.take("b", "acc", "c1");
    holds.take("b", "acc", "c1");
    // Account acc holds 3 of 3: action a has room of its own but none of its account's.
    expect(holds.room("a")).toBe(0);
    expect(holds.accountRoom("acc")).toBe(0);
    expect(holds.saturated()).toEqual(["b"]);
    expect(holds.saturatedAccounts()).toEqual(["acc"]);
  });

  it("an action with nothing held has its own room; its account's is applied when given", () => {
    const holds = createHolds(limits, () => {});
    holds.take("b", "acc", "c1");
    holds.take("b", "acc", "c1");
    holds.take("c", "acc", "c1");
    expect(holds.room("a")).toBe(2);
    expect(holds.room("a", "acc")).toBe(0);
  });

  it("freeing a slot gives back the action's and account's room but keeps the instance held until released", () => {
    let freed = 0;
    const holds = createHolds(limits, () => freed++);
    const slot = holds.take("a", "acc", "c1");
    holds.take("a", "acc", "c1");
    expect(holds.free()).toBe(2);
    slot.freeSlot();
    slot.freeSlot();
    expect(holds.room("a")).toBe(1);
    expect(holds.free()).toBe(2);
    expect(freed).toBe(1);
    slot.release();
    slot.release();
    expect(holds.free()).toBe(3);
    expect(freed).toBe(2);
  });

  it("a claim's lease is kept while any of its instances is held", () => {
    const holds = createHolds(limits, () => {});
    const first = holds.take("a", "acc", "c1");
    const second = holds.take("b", "acc", "c1");
    const other = holds.take("b", "acc", "c2");
    expect(holds.claimTokens()).toEqual(["c1", "c2"]);
    first.release();
    other.release();
    expect(holds.claimTokens()).toEqual(["c1"]);
    second.release();
    expect(holds.claimTokens()).toEqual([]);
    expect(holds.free()).toBe(4);
    expect(holds.saturated()).toEqual([]);
  });
});
