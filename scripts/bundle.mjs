/**
 * Bundles the compiled CLI (dist/cli.js) and its threads' entries (webhooks, template renders) into
 * dist/bin/, the files `hookline` runs: one module each to load instead of some 450, so the command
 * starts in about half the time (see docs/PERFORMANCE.md, item 37). Left outside: the native SQLite
 * driver, and what loads only when configured (PostgreSQL, SMTP, OpenTelemetry), as in the
 * unbundled build.
 *
 * The bin is made executable here: the folder is written anew each build, and `npx hookline` runs
 * it through a link npm made executable once, at the first install, and reuses after.
 *
 * The bundler needs Node 20.19 or later; on an older Node 20 the command runs the unbundled build
 * instead (slower to start, the same otherwise).
 */
import fs from "node:fs";

let rolldown;
try {
  rolldown = await import("rolldown");
} catch (error) {
  process.stderr.write(`bundle: ${error.message}; dist/bin runs the unbundled build\n`);
}

fs.rmSync("dist/bin", { recursive: true, force: true });
if (rolldown) {
  await rolldown.build({
    input: {
      hookline: "dist/cli.js",
      "webhook-thread-entry": "dist/deliver/webhook-thread-entry.js",
      "render-thread-entry": "dist/templates/render-thread-entry.js",
    },
    platform: "node",
    external: [/^better-sqlite3(\/|$)/, /^pg(\/|$)/, /^nodemailer(\/|$)/, /^@opentelemetry\//],
    output: { dir: "dist/bin", format: "esm", entryFileNames: "[name].js", chunkFileNames: "[name]-[hash].js", sourcemap: true },
    logLevel: "warn",
    // The main thread imports the templates statically, the webhook thread lazily (deliver/webhook.ts):
    // they are a chunk of their own, which the thread loads on first need, whatever this warns.
    onLog: (level, log, handler) => log.code !== "INEFFECTIVE_DYNAMIC_IMPORT" && handler(level, log),
  });
} else {
  fs.mkdirSync("dist/bin");
  fs.writeFileSync("dist/bin/hookline.js", '#!/usr/bin/env node\nimport "../cli.js";\n');
}
fs.chmodSync("dist/bin/hookline.js", 0o755);
