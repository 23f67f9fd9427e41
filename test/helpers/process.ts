/** Runs the built `hookline` command as a child process, as an operator would. */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { promisify } from "node:util";
// The command as installed (package.json's `bin`), built by `npm test` before the tests run.
import { CLI } from "./command.js";

export { CLI };

export function runCli(args: string[], env: Record<string, string> = {}) {
  return promisify(execFile)(process.execPath, [CLI, ...args], { env: { ...process.env, ...env } });
}

export interface ServerProcess {
  port: number;
  child: ChildProcess;
  /** stdout and stderr as they arrived. */
  output: () => string;
  /** stdout alone (the JSON log). */
  stdout: () => string;
  /** Waits for the process to exit; resolves with its exit code. */
  exited: Promise<number | null>;
}

/** Starts `hookline serve` and resolves once it listens (its log line names the port). */
export function startServer(env: Record<string, string>): Promise<ServerProcess> {
  const child = spawn(process.execPath, [CLI, "serve"], {
    env: { ...process.env, HOOKLINE_PORT: "0", HOOKLINE_HOST: "127.0.0.1", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  let stdout = "";
  child.stdout.on("data", (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${output}`)), 20_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /"port":(\d+).*listening/.exec(output);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve({ port: Number(match[1]), child, output: () => output, stdout: () => stdout, exited });
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}:\n${output}`));
    });
  });
}
