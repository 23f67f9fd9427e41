/**
 * The baseline: what a Node team would build instead of Hookline — an HTTP ingest endpoint that
 * enqueues a BullMQ job per event in Redis, and a BullMQ worker that POSTs it with undici, retries
 * 5xx up to 5 attempts, gives up on 4xx, and keeps the result (the completed job) in Redis. Redis
 * runs with `appendfsync always`, so an acknowledged event is on disk, as Hookline's are.
 *
 *   BASELINE_REDIS_PORT=… BASELINE_TARGET=http://… node dist/bench/baseline.js   → logs {"port":N} listening
 */
import { Queue, UnrecoverableError, Worker } from "bullmq";
import Fastify from "fastify";
import { Pool } from "undici";

interface Job {
  type: string;
  data: Record<string, unknown>;
}

async function main() {
  const connection = { host: "127.0.0.1", port: Number(process.env.BASELINE_REDIS_PORT), maxRetriesPerRequest: null };
  const target = new URL(process.env.BASELINE_TARGET ?? "");
  const queue = new Queue<Job>("deliveries", { connection });
  const pool = new Pool(target.origin, { connections: 64 });
  const worker = new Worker<Job>(
    "deliveries",
    async (job) => {
      const res = await pool.request({
        method: "POST",
        path: target.pathname,
        headers: { "content-type": "application/json", "webhook-id": String(job.id) },
        body: JSON.stringify({ apptoto_id: job.id, type: job.data.type, ...job.data.data }),
        headersTimeout: 15_000,
        bodyTimeout: 15_000,
      });
      await res.body.dump();
      if (res.statusCode >= 500) throw new Error(`receiver answered ${res.statusCode}`);
      if (res.statusCode >= 400) throw new UnrecoverableError(`receiver answered ${res.statusCode}`);
      return { status: res.statusCode, at: Date.now() };
    },
    { connection, concurrency: 64 },
  );
  const app = Fastify({ bodyLimit: 1_048_576 });
  app.post("/api/v1/events", async (request, reply) => {
    const body = request.body as Partial<Job> | undefined;
    if (!body || typeof body.type !== "string" || typeof body.data !== "object" || body.data === null) {
      return reply.code(400).send({ error: { code: "validation_error", message: "type and data are required" } });
    }
    const job = await queue.add("deliver", { type: body.type, data: body.data }, { attempts: 5, backoff: { type: "exponential", delay: 1_000 } });
    return reply.code(202).send({ id: job.id });
  });
  await app.listen({ port: 0, host: "127.0.0.1" });
  const address = app.server.address();
  process.stdout.write(`${JSON.stringify({ port: typeof address === "object" && address ? address.port : 0 })} listening\n`);
  process.once("SIGTERM", () => {
    void Promise.all([app.close(), worker.close(), queue.close(), pool.close()]).then(() => process.exit(0));
  });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
