/** Hookline's version, in one place: the CLI's `--version`, the startup line, /health and traces. */
export const VERSION = "0.1.0";
