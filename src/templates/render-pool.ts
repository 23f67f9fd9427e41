/**
 * Untrusted templates (previews, the save-time check of a webhook body, sms and email messages at
 * delivery) are rendered on a small pool of worker threads, never on the server's own thread:
 * Liquid holds the thread it runs on for the whole render, up to its time limit, and a few
 * accounts' renders at once would otherwise keep every other request waiting.
 *
 * Each thread renders one job at a time, under a hard deadline: Liquid checks its own limit only
 * between the nodes of a template, so a render still running at the deadline has its thread
 * terminated (and replaced when work waits), and ends as a TemplateError like any other limit.
 *
 * Renders take turns by owner (an account for the API, an action at delivery): a free thread takes
 * the next render of the owner whose turn it is, so one owner's flood waits behind itself, not in
 * front of the others. Threads start when first needed.
 */
import { Worker } from "node:worker_threads";
import type { Logger } from "pino";
import { HooklineError } from "../errors.js";
import { threadEntryUrl } from "../thread-entry.js";
import { LIMITS, type RenderJob, TemplateError } from "./templates.js";

export type FromRenderThread = { ready: true } | { output: string } | { problem: string } | { error: string };

/** When a render still running is stopped from outside: Liquid's own limit, and a margin for it to notice. */
export const RENDER_DEADLINE_MS = LIMITS.renderMs + 500;

/** The answer to a render stopped at its deadline. */
export const TOO_LONG = `rendering took longer than the limit of ${LIMITS.renderMs} ms`;

/** An account's renders for its API calls (previews, save-time checks) waiting or running at once; more are refused. */
export const RENDERS_PER_ACCOUNT = 4;

/** An owner already has as many renders waiting or running as the caller allows. */
export class TooManyRendersError extends HooklineError {
  constructor(max: number) {
    super(429, "rate_limited", `this account already has ${max} template renders in progress; retry after 1 s`, undefined, { "retry-after": "1" });
  }
}

export interface RenderPool {
  /**
   * Renders a job on a pool thread, in its owner's turn: the output, or a TemplateError (a syntax
   * error, a limit, the deadline). With `maxPending`, refused (TooManyRendersError) when the owner
   * already has that many renders waiting or running.
   */
  render(owner: string, job: RenderJob, options?: { maxPending?: number }): Promise<string>;
  close(): Promise<void>;
}

interface Task {
  owner: string;
  job: RenderJob;
  resolve(output: string): void;
  reject(error: unknown): void;
}

interface RenderThread {
  worker: Worker;
  ready: boolean;
  /** The render it is running, until it answers or is stopped. */
  task?: Task;
  deadline?: NodeJS.Timeout;
}

/** A render for an account's API call: in the account's turn, refused (429) past RENDERS_PER_ACCOUNT in progress. */
export function renderForAccount(pool: RenderPool, accountId: string, job: RenderJob): Promise<string> {
  return pool.render(accountId, job, { maxPending: RENDERS_PER_ACCOUNT });
}

export function createRenderPool({
  logger,
  threads = 1,
  deadlineMs = RENDER_DEADLINE_MS,
  entry = threadEntryUrl(import.meta.url, "render-thread-entry"),
}: {
  logger: Logger;
  threads?: number;
  deadlineMs?: number;
  /** The thread's code (a test may stand in for it). */
  entry?: URL;
}): RenderPool {
  /** Per owner, its renders not started yet; the map's order is the order of turns. */
  const waiting = new Map<string, Task[]>();
  let queued = 0;
  /** Per owner, its renders waiting or running. */
  const pending = new Map<string, number>();
  const all = new Set<RenderThread>();
  const idle: RenderThread[] = [];
  let closed = false;

  function spawn(): void {
    const thread: RenderThread = { worker: new Worker(entry, { name: "hookline-templates" }), ready: false };
    all.add(thread);
    // An idle pool does not keep the process alive; a render in flight does, by its deadline timer.
    thread.worker.unref();
    thread.worker.on("message", (reply: FromRenderThread) => {
      if ("ready" in reply) {
        thread.ready = true;
        idle.push(thread);
        return dispatch();
      }
      const task = finish(thread);
      if (!task) return;
      if ("output" in reply) task.resolve(reply.output);
      else if ("problem" in reply) task.reject(new TemplateError(reply.problem));
      else task.reject(new Error(reply.error));
      idle.push(thread);
      dispatch();
    });
    thread.worker.on("error", (err) => logger.error({ err }, "template render thread failed"));
    thread.worker.on("exit", (code) => {
      all.delete(thread);
      const at = idle.indexOf(thread);
      if (at >= 0) idle.splice(at, 1);
      if (closed) return finish(thread)?.reject(new Error("the template renderer is closed"));
      finish(thread)?.reject(new Error(`the template render thread stopped (exit code ${code})`));
      // A thread that cannot even start would be replaced forever: what waits fails instead.
      if (!thread.ready) return failWaiting(new Error(`the template render thread could not start (exit code ${code})`));
      dispatch();
    });
  }

  /** Ends the thread's current render, if it still has one: the caller settles it. */
  function finish(thread: RenderThread): Task | undefined {
    const task = thread.task;
    if (!task) return undefined;
    clearTimeout(thread.deadline);
    thread.task = undefined;
    release(task.owner);
    return task;
  }

  function release(owner: string): void {
    const left = (pending.get(owner) ?? 1) - 1;
    if (left > 0) pending.set(owner, left);
    else pending.delete(owner);
  }

  /** The next render of the owner whose turn it is; that owner goes to the back of the line. */
  function nextTask(): Task | undefined {
    for (const [owner, tasks] of waiting) {
      waiting.delete(owner);
      const task = tasks.shift();
      if (tasks.length > 0) waiting.set(owner, tasks);
      queued--;
      return task;
    }
    return undefined;
  }

  function start(thread: RenderThread, task: Task): void {
    thread.task = task;
    thread.deadline = setTimeout(() => {
      finish(thread)?.reject(new TemplateError(TOO_LONG));
      void thread.worker.terminate();
    }, deadlineMs);
    thread.worker.postMessage(task.job satisfies RenderJob);
  }

  function dispatch(): void {
    for (let thread = idle.pop(); thread; thread = idle.pop()) {
      const task = nextTask();
      if (!task) {
        idle.push(thread);
        break;
      }
      start(thread, task);
    }
    // Threads start on demand: one for each render waiting, up to the pool's size.
    const starting = [...all].filter((t) => !t.ready).length;
    for (let n = starting; n < queued && all.size < threads; n++) spawn();
  }

  function failWaiting(error: Error): void {
    for (const tasks of waiting.values())
      for (const task of tasks) {
        release(task.owner);
        task.reject(error);
      }
    waiting.clear();
    queued = 0;
  }

  return {
    render(owner, job, { maxPending } = {}) {
      if (closed) return Promise.reject(new Error("the template renderer is closed"));
      const count = pending.get(owner) ?? 0;
      if (maxPending !== undefined && count >= maxPending) return Promise.reject(new TooManyRendersError(maxPending));
      pending.set(owner, count + 1);
      return new Promise<string>((resolve, reject) => {
        const task = { owner, job, resolve, reject };
        const tasks = waiting.get(owner);
        if (tasks) tasks.push(task);
        else waiting.set(owner, [task]);
        queued++;
        dispatch();
      });
    },
    async close() {
      closed = true;
      failWaiting(new Error("the template renderer is closed"));
      await Promise.all([...all].map((t) => t.worker.terminate()));
    },
  };
}
