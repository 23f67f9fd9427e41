/**
 * The ceiling: raw undici `request` POSTs of the same payloads to the same receiver, with nothing
 * in between — no ingest, no database, no queue. Runs as its own process (as Hookline does), so the
 * receiver and this sender share the two cores the way Hookline's bench does.
 *
 *   node dist/bench/ceiling.js <url> <count> <concurrency>   → prints {"per_s": …}
 */
import { Pool } from "undici";
import { eventBody, now } from "./harness.js";

/** Roughly what Hookline delivers for one event: the payload plus the Standard Webhooks headers. */
function payload(id: number): string {
  const { data } = eventBody(id);
  return JSON.stringify({ apptoto_id: `ins_${id}`, type: "participant.confirmed", ...data });
}

async function main() {
  const [url = "", countText = "0", concurrencyText = "64"] = process.argv.slice(2);
  const target = new URL(url);
  const count = Number(countText);
  const pool = new Pool(target.origin, { connections: Number(concurrencyText) });
  let next = 1;
  const start = now();
  await Promise.all(
    Array.from({ length: Number(concurrencyText) }, async () => {
      while (next <= count) {
        const id = next++;
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
      }
    }),
  );
  process.stdout.write(`${JSON.stringify({ per_s: count / ((now() - start) / 1000) })}\n`);
  await pool.close();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
