import net from "node:net";
import { afterAll, expect, it } from "vitest";
import { freePort } from "./helpers/free-port.js";

const sockets: net.Socket[] = [];
let server: net.Server | undefined;
afterAll(async () => {
  for (const s of sockets) s.destroy();
  await new Promise((r) => server?.close(r));
});

// A random port from a range that overlaps the OS's ephemeral ports can be the local port of an open
// connection: a server started there fails to bind (the bench's Redis hung on it).
it("freePort never hands out a port that an open connection holds", async () => {
  server = net.createServer((s) => sockets.push(s));
  await new Promise<void>((r) => server?.listen(0, "127.0.0.1", r));
  const { port } = server.address() as net.AddressInfo;
  const held = new Set<number>();
  for (let i = 0; i < 200; i++) {
    const socket = net.connect(port, "127.0.0.1");
    sockets.push(socket);
    await new Promise((r) => socket.once("connect", r));
    held.add(socket.localPort as number);
  }
  held.add(port);
  for (let i = 0; i < 200; i++) expect(held.has(await freePort())).toBe(false);
});
