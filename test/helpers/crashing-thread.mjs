// A stand-in for the webhook thread's code that dies on its first job (webhook-thread.test.ts).
import { parentPort } from "node:worker_threads";

parentPort.on("message", (message) => {
  if (message.t === "send") process.exit(3);
  if (message.t === "close") parentPort.close();
});
