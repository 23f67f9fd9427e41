/**
 * The data folder holds accounts' payloads (names, phone numbers, emails), sessions, webhook URLs
 * and the key that seals secrets: its files are readable and writable by their owner only, whatever
 * the umask. A folder Hookline creates is owner-only too; one that exists keeps its mode (it may be
 * a mount point, or shared on purpose), and the server warns when others can enter it.
 */
import fs from "node:fs";
import path from "node:path";

const FOLDER_MODE = 0o700;
const FILE_MODE = 0o600;

/** Creates `dir` and its missing parents; the folder itself owner-only. */
export function makePrivateFolder(dir: string): void {
  // mkdir's mode passes through the umask; chmod does not.
  if (makeFolders(path.resolve(dir))) fs.chmodSync(dir, FOLDER_MODE);
}

/**
 * `mkdir -p`, one level at a time, saying whether `dir` was made: Node 20's `recursive: true` loops
 * forever where a folder cannot be made under one that exists (`/proc/x`).
 */
function makeFolders(dir: string): boolean {
  try {
    fs.mkdirSync(dir, { mode: FOLDER_MODE });
    return true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "EEXIST" && fs.statSync(dir).isDirectory()) return false;
    if (code !== "ENOENT" || path.dirname(dir) === dir) throw error;
  }
  makeFolders(path.dirname(dir));
  fs.mkdirSync(dir, { mode: FOLDER_MODE });
  return true;
}

/** Makes `file` owner-only, creating it empty when absent. */
export function makePrivateFile(file: string): void {
  fs.closeSync(fs.openSync(file, "a", FILE_MODE));
  tightenIfPresent(file);
}

/**
 * Makes `file` owner-only if it exists (a file's mode at creation passes through the umask; chmod's
 * does not). A file another user owns, or on a read-only mount, keeps the mode its owner gave it.
 */
export function tightenIfPresent(file: string): void {
  try {
    fs.chmodSync(file, FILE_MODE);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== "ENOENT" && code !== "EPERM" && code !== "EROFS") throw error;
  }
}

/** Whether users other than its owner can enter or change `dir` (false when it does not exist). */
export function openToOthers(dir: string): boolean {
  try {
    return (fs.statSync(dir).mode & 0o077) !== 0;
  } catch {
    return false;
  }
}
