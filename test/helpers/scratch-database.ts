/**
 * A fresh, empty database on a PostgreSQL server, and a way to drop it: for the tests and the
 * benchmark, which give each Hookline (or group of processes) a database of its own.
 */
import pg from "pg";

export async function createScratchDatabase(serverUrl: string, prefix = "hl"): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `${prefix}_${Math.random().toString(36).slice(2, 12)}`;
  const run = async (statement: string) => {
    const client = new pg.Client({ connectionString: serverUrl });
    await client.connect();
    try {
      await client.query(statement);
    } finally {
      await client.end();
    }
  };
  await run(`create database ${name}`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => run(`drop database if exists ${name} with (force)`) };
}
