import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { makePrivateFolder } from "./private-files.js";

const root = fs.mkdtempSync(path.join(os.tmpdir(), "hookline-private-"));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

describe("makePrivateFolder", () => {
  it("makes a folder and its missing parents, the folder owner-only", () => {
    const dir = path.join(root, "a", "b", "data");
    makePrivateFolder(dir);
    expect(fs.statSync(dir).mode & 0o777).toBe(0o700);
    makePrivateFolder(dir); // exists: nothing to do
  });

  it("refuses a folder under a regular file with the system's error", () => {
    fs.writeFileSync(path.join(root, "file"), "");
    expect(() => makePrivateFolder(path.join(root, "file", "data"))).toThrow(expect.objectContaining({ code: "ENOTDIR" }));
  });

  it.skipIf(!fs.existsSync("/proc/self"))("fails at once where a folder cannot be made under one that exists (/proc), instead of looping", () => {
    expect(() => makePrivateFolder("/proc/hookline-data/db")).toThrow(expect.objectContaining({ code: "ENOENT" }));
  });
});
