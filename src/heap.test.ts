import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { tuneHeapGrowth } from "./heap.js";

/** The build of heap.ts (rebuilt before the tests when stale: test/helpers/fresh-build.ts), for a fresh process whose V8 flags are its own. */
const built = fileURLToPath(new URL("../dist/heap.js", import.meta.url));

/**
 * The most heap a process holds while it keeps 30 MB live and churns through garbage that lives a
 * little while (as requests in flight do), with or without the tuning.
 */
function peakHeapMb(tuned: boolean): number {
  const script = `
    const v8 = await import("node:v8");
    if (${tuned}) (await import(${JSON.stringify(built)})).tuneHeapGrowth();
    const live = []; for (let i = 0; i < 3e5; i++) live.push({ i, s: "x" + i });
    let max = 0; const recent = [];
    for (let r = 0; r < 300; r++) {
      for (let i = 0; i < 20000; i++) recent.push({ r, i, a: [i, i + 1] });
      if (recent.length > 60000) recent.splice(0, 20000);
      max = Math.max(max, v8.getHeapStatistics().total_heap_size);
    }
    console.log(Math.round(max / 1048576), live.length);`;
  return Number(execFileSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8" }).split(" ")[0]);
}

describe("heap growth", () => {
  it("keeps a churning process's heap well below where V8's default growth lets it go", () => {
    const untuned = peakHeapMb(false);
    const tuned = peakHeapMb(true);
    expect(tuned).toBeLessThan(untuned * 0.85);
  });

  it("leaves a growth given on the command line alone", () => {
    expect(tuneHeapGrowth(["--heap-growing-percent=80"])).toBe(false);
    expect(tuneHeapGrowth(["--heap_growing_percent=80"])).toBe(false);
    expect(tuneHeapGrowth(["--max-old-space-size=512"])).toBe(true);
  });
});
