/**
 * The ceiling: raw undici `request` POSTs of the same payloads to the same receiver, with nothing
 * in between — no ingest, no database, no queue. Runs as its own process (as Hookline does), so the
 * receiver and this sender share the two cores the way Hookline's bench does.
 *
 *   node dist-bench/bench/ceiling.js <url> <count> <concurrency> <warm-up> [<rate> <seconds>]
 *     → prints {"per_s": …} over <count> POSTs after <warm-up> unmeasured ones, the sender's CPU
 *       per POST over those (all its threads, as Hookline's server's is counted; the receiver's
 *       is the bench process's) and its peak RSS, and, with a rate, the request round trips'
 *       p50/p99 at that fixed rate
 */
import { Pool } from "undici";
import { eventBody, now, percentile, round, sleep } from "./harness.js";

/** Roughly what Hookline delivers for one event: the payload plus the Standard Webhooks headers. */
function payload(id: number): string {
  const { data } = eventBody(id);
  return JSON.stringify({ apptoto_id: `ins_${id}`, type: "participant.confirmed", ...data });
}

async function main() {
  const [url = "", countText = "0", concurrencyText = "64", warmupText = "0", rateText, secondsText] = process.argv.slice(2);
  const target = new URL(url);
  const count = Number(countText);
  const pool = new Pool(target.origin, { connections: Number(concurrencyText) });
  const post = async (id: number) => {
    const res = await pool.request({
      method: "POST",
      path: target.pathname,
      headers: {
        "content-type": "application/json",
        "webhook-id": `ins_${id}`,
        "webhook-timestamp": String(Math.floor(Date.now() / 1000)),
        "webhook-signature": "v1,x",
      },
      body: payload(id),
    });
    await res.body.dump();
  };
  let next = 1;
  /** POSTs ids from `next` up to `last`, `concurrencyText` at a time. */
  const closedLoop = (last: number) =>
    Promise.all(
      Array.from({ length: Number(concurrencyText) }, async () => {
        while (next <= last) await post(next++);
      }),
    );
  const warmup = Number(warmupText);
  await closedLoop(warmup);
  const start = now();
  const cpuBefore = process.cpuUsage();
  await closedLoop(warmup + count);
  const cpu = process.cpuUsage(cpuBefore);
  const result: Record<string, number> = {
    per_s: round(count / ((now() - start) / 1000)),
    cpu_ms_per_event: round((cpu.user + cpu.system) / 1000 / count, 3),
  };
  if (rateText && secondsText) {
    const rate = Number(rateText);
    const total = rate * Number(secondsText);
    const began = performance.now();
    const times: number[] = [];
    const pending: Promise<void>[] = [];
    for (let i = 0; i < total; i++) {
      const wait = began + (i * 1000) / rate - performance.now();
      if (wait > 1) await sleep(wait);
      const t = now();
      pending.push(post(warmup + count + 1 + i).then(() => void times.push(now() - t)));
    }
    await Promise.all(pending);
    times.sort((a, b) => a - b);
    Object.assign(result, { p50_ms_at_1k: round(percentile(times, 50), 1), p99_ms_at_1k: round(percentile(times, 99), 1) });
  }
  // The whole run's peak (getrusage's maxrss, in KiB), as procStats reads the other contenders'.
  result.peak_rss_mb = round(process.resourceUsage().maxRSS / 1024);
  process.stdout.write(`${JSON.stringify(result)}\n`);
  await pool.close();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
