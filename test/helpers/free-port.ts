import net, { type AddressInfo } from "node:net";

/**
 * A port the OS found free a moment ago, for a server whose port must be chosen before it starts.
 * The OS skips ports in use, the local ports of open connections included; a port picked at random
 * from the range those come from could be one of them (Redis then failed to bind: bench/run.ts).
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
