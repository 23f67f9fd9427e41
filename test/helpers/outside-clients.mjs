// HTTP clients on a thread of their own, as they would be on other machines: their timers and
// requests do not wait for the server's thread, so a stalled server shows as slow answers, and the
// server's thread spends its time serving them, not being them too (template-isolation.test.ts).
//
// workerData.role "flood": { baseUrl, untilMs, clients, requests: [{ path, apiKey, body }] } — client i
// posts requests[i % requests.length] again and again; posts back { "<status> <error message>": count }.
// workerData.role "watch": { baseUrl, untilMs, gapMs, calls: [{ name, path, apiKey?, body? }] } — makes
// each call in turn, gapMs apart, at least once; posts back { slowest: { <name>: ms }, failures: [] }.
import { parentPort, workerData } from "node:worker_threads";

const { role, baseUrl, untilMs } = workerData;

function send({ path, apiKey, body }) {
  const headers = apiKey ? { authorization: `Bearer ${apiKey}` } : {};
  if (body === undefined) return fetch(`${baseUrl}${path}`, { headers });
  return fetch(`${baseUrl}${path}`, { method: "POST", headers: { ...headers, "content-type": "application/json" }, body: JSON.stringify(body) });
}

async function flood({ clients, requests }) {
  const answers = {};
  const client = async (i) => {
    while (Date.now() < untilMs) {
      const response = await send(requests[i % requests.length]);
      const { error } = await response.json();
      const key = `${response.status} ${error?.message ?? ""}`;
      answers[key] = (answers[key] ?? 0) + 1;
    }
  };
  await Promise.all(Array.from({ length: clients }, (_, i) => client(i)));
  return answers;
}

async function watch({ gapMs, calls }) {
  const slowest = Object.fromEntries(calls.map((c) => [c.name, 0]));
  const failures = [];
  do {
    for (const call of calls) {
      const started = performance.now();
      const response = await send(call);
      await response.arrayBuffer();
      slowest[call.name] = Math.max(slowest[call.name], performance.now() - started);
      if (response.status >= 300) failures.push(`${call.name}: ${response.status}`);
    }
    await new Promise((resolve) => setTimeout(resolve, gapMs));
  } while (Date.now() < untilMs);
  return { slowest, failures };
}

parentPort.postMessage(await (role === "flood" ? flood(workerData) : watch(workerData)));
