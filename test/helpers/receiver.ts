/** A real HTTP server on loopback that records what it receives and answers as a test tells it to. */
import { once } from "node:events";
import http from "node:http";
import type { AddressInfo } from "node:net";

export interface Received {
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  at: number;
}

/** Answers a request; may write to `res` itself (and return nothing) to hang, trickle, redirect… */
export type Responder = (
  req: Received,
  res: http.ServerResponse,
  nth: number,
) => { status: number; body?: string; headers?: Record<string, string> } | undefined;

export interface Receiver {
  url(path?: string): string;
  received: Received[];
  /** Sets how requests to `path` are answered (default: 200 "ok"). */
  respond(path: string, responder: Responder): void;
  /** Resolves once `count` requests to `path` (or in all) have arrived. */
  waitFor(count: number, path?: string, timeoutMs?: number): Promise<Received[]>;
  close(): Promise<void>;
}

export async function startReceiver(): Promise<Receiver> {
  const received: Received[] = [];
  const responders = new Map<string, Responder>();
  const counts = new Map<string, number>();
  const waiters = new Set<() => void>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const path = req.url ?? "/";
      const entry: Received = { path, headers: req.headers, body: Buffer.concat(chunks).toString("utf8"), at: Date.now() };
      received.push(entry);
      const nth = (counts.get(path) ?? 0) + 1;
      counts.set(path, nth);
      for (const w of waiters) w();
      const responder: Responder = responders.get(path) ?? (() => ({ status: 200, body: "ok" }));
      const answer = responder(entry, res, nth);
      if (answer) {
        res.writeHead(answer.status, { "content-type": "text/plain", ...answer.headers });
        res.end(answer.body ?? "");
      }
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const port = (server.address() as AddressInfo).port;
  const sockets = new Set<import("node:net").Socket>();
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });

  return {
    url: (path = "/") => `http://127.0.0.1:${port}${path}`,
    received,
    respond: (path, responder) => responders.set(path, responder),
    waitFor(count, path, timeoutMs = 15_000) {
      const matching = () => received.filter((r) => path === undefined || r.path === path);
      return new Promise((resolve, reject) => {
        const check = () => {
          const m = matching();
          if (m.length >= count) {
            waiters.delete(check);
            clearTimeout(timer);
            resolve(m);
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`receiver: expected ${count} requests to ${path ?? "any path"}, got ${matching().length}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    async close() {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}
