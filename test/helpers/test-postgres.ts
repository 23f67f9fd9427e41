/**
 * The private PostgreSQL cluster of scripts/ensure-postgres.sh, which the tests and the bench share:
 * the folder it keeps it in, and the URL it last wrote there. The script is the other place that
 * names the folder (`$TMPDIR/hookline-test-postgres`).
 */
import fs from "node:fs";
import path from "node:path";

export const TEST_POSTGRES_DIR = path.join(process.env.TMPDIR ?? "/tmp", "hookline-test-postgres");

/** The URL the script last wrote, or undefined when it wrote none. */
export function testPostgresUrl(): string | undefined {
  try {
    return fs.readFileSync(path.join(TEST_POSTGRES_DIR, "url"), "utf8").trim() || undefined;
  } catch {
    return undefined;
  }
}
