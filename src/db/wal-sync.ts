/**
 * Makes SQLite commits durable without blocking the event loop. SQLite runs with synchronous=NORMAL
 * (a commit writes the WAL but does not fsync it); after each commit the driver (sqlite.ts) waits for
 * an fsync of the WAL file done here, on libuv's thread pool, before the caller hears of the commit.
 * That is what synchronous=FULL does in WAL mode (one fsync of the WAL per commit), moved off the
 * main thread: an event is still on disk before its 2xx.
 *
 * Callers share fsyncs: one that starts after a commit covers it and every commit before it, so a
 * caller waits for the fsync in progress only if it started before its commit, then for the next.
 */
import fs from "node:fs";

export interface WalSync {
  /** Resolves once everything written to the WAL before this call is on disk. */
  sync(): Promise<void>;
  close(): void;
}

type Fsync = (fd: number, done: (error: NodeJS.ErrnoException | null) => void) => void;

export function createWalSync(walPath: string, fsync: Fsync = fs.fsync): WalSync {
  let fd: number | undefined;
  let running: Promise<void> | undefined;
  let next: Promise<void> | undefined;

  function fsyncNow(): Promise<void> {
    return new Promise((resolve, reject) => {
      // Opened on first use: SQLite creates the WAL file with its first write. It keeps that file (and
      // its inode) while the connection is open, truncating it at most, so one descriptor serves.
      if (fd === undefined) fd = fs.openSync(walPath, "r");
      fsync(fd, (error) => (error ? reject(error) : resolve()));
    });
  }

  function sync(): Promise<void> {
    if (!running) {
      running = fsyncNow().finally(() => {
        running = undefined;
      });
      return running;
    }
    // An fsync is running, but may have started before this caller's commit: wait for the next one,
    // shared by everyone who arrives meanwhile.
    next ??= running
      .catch(() => {})
      .then(() => {
        next = undefined;
        return sync();
      });
    return next;
  }

  return {
    sync,
    close() {
      if (fd !== undefined) fs.closeSync(fd);
      fd = undefined;
    },
  };
}
