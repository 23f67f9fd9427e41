/**
 * Hookline's version for the CLI's `--version`, the startup line, /health and traces; test/cli.test.ts
 * keeps it equal to package.json's.
 */
export const VERSION = "0.1.0";
