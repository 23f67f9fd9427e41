import { describe, expect, it } from "vitest";
import { whenAborted } from "./abort.js";

describe("whenAborted", () => {
  it("calls every subscriber still subscribed when the signal aborts, without Node's listener-leak warning", async () => {
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(warning.name);
    process.on("warning", onWarning);
    try {
      const abort = new AbortController();
      const called: number[] = [];
      const offs = Array.from({ length: 20 }, (_, i) => whenAborted(abort.signal, () => called.push(i)));
      offs[3]?.();
      await new Promise((r) => setImmediate(r));
      expect(warnings).not.toContain("MaxListenersExceededWarning");
      abort.abort();
      expect(called).toEqual(Array.from({ length: 20 }, (_, i) => i).filter((i) => i !== 3));
    } finally {
      process.off("warning", onWarning);
    }
  });

  it("keeps the subscribers of different signals apart", () => {
    const a = new AbortController();
    const b = new AbortController();
    const called: string[] = [];
    whenAborted(a.signal, () => called.push("a"));
    whenAborted(b.signal, () => called.push("b"));
    b.abort();
    expect(called).toEqual(["b"]);
  });
});
