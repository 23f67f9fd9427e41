/** The webhook thread's side (webhook-thread.ts): the ordinary webhook sender, fed by messages. */
import { parentPort, workerData } from "node:worker_threads";
import { Stop } from "../abort.js";
import { type WebhookSetup, webhookSenderFor } from "./webhook.js";
import type { FromThread, ToThread } from "./webhook-thread.js";

const port = parentPort;
if (!port) throw new Error("webhook-thread-entry runs only as a worker thread");
const sender = webhookSenderFor(workerData as WebhookSetup);
/** Each delivery's stop: a Stop, not an AbortController (abort.ts says why). */
const running = new Map<number, Stop>();

let replies: FromThread = [];
function reply(entry: FromThread[number]): void {
  // Answers arriving in the same turn of the event loop go back as one message.
  if (replies.length === 0)
    setImmediate(() => {
      port?.postMessage(replies);
      replies = [];
    });
  replies.push(entry);
}

port.on("message", (message: ToThread) => {
  switch (message.t) {
    case "send":
      for (const { seq, instance } of message.jobs) {
        const stop = new Stop();
        running.set(seq, stop);
        sender
          .send(instance, stop)
          .then(
            (result) => reply({ seq, result }),
            (error: unknown) => reply({ seq, error: error instanceof Error ? error.message : String(error) }),
          )
          .finally(() => running.delete(seq));
      }
      break;
    case "abort":
      for (const seq of message.seqs) running.get(seq)?.abort();
      break;
    case "close":
      void sender.close().finally(() => port.close());
      break;
  }
});
