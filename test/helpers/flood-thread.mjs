// Clients flooding a server with requests, on a thread of their own as they would be on another
// machine: the server's thread then spends its time serving them, not being them too.
// workerData: { baseUrl, apiKey, clients, untilMs, requests: [{ path, body }] } (client i sends
// requests[i % requests.length] again and again). Posts back { "<status> <error message>": count }.
import { parentPort, workerData } from "node:worker_threads";

const { baseUrl, apiKey, clients, untilMs, requests } = workerData;
const answers = {};

async function client(i) {
  const { path, body } = requests[i % requests.length];
  while (Date.now() < untilMs) {
    const response = await fetch(`${baseUrl}${path}`, {
      method: "POST",
      headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    const { error } = await response.json();
    const key = `${response.status} ${error?.message ?? ""}`;
    answers[key] = (answers[key] ?? 0) + 1;
  }
}

await Promise.all(Array.from({ length: clients }, (_, i) => client(i)));
parentPort.postMessage(answers);
