import fs from "node:fs";
import net, { type AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { loadConfig } from "./config.js";
import { createLogger } from "./logger.js";
import { startHookline } from "./server.js";
import { StartupError } from "./startup.js";

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

describe("startup failures", () => {
  it("a server whose port is taken fails with a StartupError naming HOOKLINE_PORT, and closes the database it opened", async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "hookline-startup-"));
    const taken = net.createServer();
    await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
    cleanups.push(
      () => taken.close(),
      () => fs.rmSync(dataDir, { recursive: true, force: true }),
    );
    const { port } = taken.address() as AddressInfo;
    const config = loadConfig({ HOOKLINE_PORT: String(port), HOOKLINE_HOST: "127.0.0.1", HOOKLINE_DATA_DIR: dataDir });

    const failure = await startHookline(config, { logger: createLogger("silent") }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(StartupError);
    expect(failure).toMatchObject({ message: `port ${port} is in use`, setting: "HOOKLINE_PORT" });
    // The last connection out of a SQLite database removes its WAL: the store was closed.
    expect(fs.existsSync(path.join(dataDir, "hookline.db"))).toBe(true);
    expect(fs.existsSync(path.join(dataDir, "hookline.db-wal"))).toBe(false);
  });
});
