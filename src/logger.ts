import pino, { type Logger } from "pino";

/** Paths never written to the log, wherever they appear. Secrets and keys must not reach log files. */
export const REDACT_PATHS = [
  "req.headers.authorization",
  "headers.authorization",
  "*.headers.authorization",
  "api_key",
  "*.api_key",
  "secret",
  "*.secret",
  "password",
  "*.password",
];

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino({ level, redact: { paths: REDACT_PATHS, censor: "[redacted]" } }, destination);
}
