/** A render thread's side (render-pool.ts): renders one job at a time and answers with its output or its problem. */
import { parentPort } from "node:worker_threads";
import type { FromRenderThread } from "./render-pool.js";
import { type RenderJob, renderJob, TemplateError } from "./templates.js";

const port = parentPort;
if (!port) throw new Error("render-thread-entry runs only as a worker thread");
const reply = (message: FromRenderThread) => port.postMessage(message);

port.on("message", (job: RenderJob) => {
  renderJob(job).then(
    (output) => reply({ output }),
    (error: unknown) => reply(error instanceof TemplateError ? { problem: error.message } : { error: error instanceof Error ? error.message : String(error) }),
  );
});
// Loaded (Liquid included): the pool starts a job's deadline only from here.
reply({ ready: true });
