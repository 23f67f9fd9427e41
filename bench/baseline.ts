/**
 * The baseline: what a Node team would build instead of Hookline — an HTTP ingest endpoint that
 * enqueues a BullMQ job per event in Redis, and a BullMQ worker that POSTs it with undici, retries
 * 5xx up to 5 attempts, gives up on 4xx, and keeps the result (the completed job) in Redis. Redis
 * runs with `appendfsync always`, so an acknowledged event is on disk, as Hookline's are. A batch
 * (`/api/v1/events/batch`, `{ events: [...] }` as Hookline's) is enqueued with one `addBulk` — what
 * the same team would write for it, so that Hookline's batches are compared with batches: BullMQ
 * sends its jobs in one pipeline, each answered once Redis has fsynced it, so the batch is on disk
 * before the 202 as Hookline's is, though not as one unit (a crash midway can keep part of an
 * unanswered batch, which its client sends again: at least once, still).
 *
 *   BASELINE_REDIS_PORT=… BASELINE_TARGET=http://… node dist-bench/bench/baseline.js   → logs {"port":N} listening
 */
import { Queue, UnrecoverableError, Worker } from "bullmq";
import Fastify, { type FastifyReply } from "fastify";
import { Pool } from "undici";

interface Job {
  type: string;
  data: Record<string, unknown>;
}

function isJob(body: unknown): body is Job {
  const b = body as Partial<Job> | null | undefined;
  return typeof b === "object" && b !== null && typeof b.type === "string" && typeof b.data === "object" && b.data !== null;
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
  const options = { attempts: 5, backoff: { type: "exponential", delay: 1_000 } };
  const invalid = (reply: FastifyReply) => reply.code(400).send({ error: { code: "validation_error", message: "type and data are required" } });
  app.post("/api/v1/events", async (request, reply) => {
    const body = request.body as Partial<Job> | undefined;
    if (!isJob(body)) return invalid(reply);
    const job = await queue.add("deliver", { type: body.type, data: body.data }, options);
    return reply.code(202).send({ id: job.id });
  });
  app.post("/api/v1/events/batch", async (request, reply) => {
    const events = (request.body as { events?: unknown } | undefined)?.events;
    if (!Array.isArray(events) || events.length === 0 || !events.every(isJob)) return invalid(reply);
    const jobs = await queue.addBulk(events.map((e) => ({ name: "deliver", data: { type: e.type, data: e.data }, opts: options })));
    return reply.code(202).send({ events: jobs.map((job) => ({ id: job.id })) });
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
