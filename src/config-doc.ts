/**
 * docs/CONFIGURATION.md's table of environment variables, rendered from ENV_VARS so the reference
 * cannot drift from what `--help` prints and `loadConfig` reads (`npm run docs:config` rewrites it).
 */
import { ENV_VARS } from "./config.js";

export const ENV_TABLE_START = "<!-- env:start -->";
export const ENV_TABLE_END = "<!-- env:end -->";

type EnvVars = Readonly<Record<string, Readonly<{ default: string; help: string }>>>;

/** A pipe inside a cell would end it; Markdown tables take it escaped. */
const cell = (text: string) => text.replaceAll("|", "\\|");

export function renderEnvTable(vars: EnvVars = ENV_VARS): string {
  const rows = Object.entries(vars).map(([name, v]) => `| \`${name}\` | ${v.default === "" ? "(none)" : `\`${cell(v.default)}\``} | ${cell(v.help)} |`);
  return ["| variable | default | meaning |", "|---|---|---|", ...rows].join("\n");
}

/** `doc` with the text between the markers replaced by `table`; throws when a marker is missing. */
export function withEnvTable(doc: string, table: string = renderEnvTable()): string {
  const start = doc.indexOf(ENV_TABLE_START);
  const end = doc.indexOf(ENV_TABLE_END);
  if (start === -1 || end < start) throw new Error(`expected ${ENV_TABLE_START} … ${ENV_TABLE_END} around the table`);
  return `${doc.slice(0, start + ENV_TABLE_START.length)}\n${table}\n${doc.slice(end)}`;
}
