import { z } from "zod";
import { ValidationError } from "./errors.js";

function pathText(path: readonly PropertyKey[], root: string): string {
  let text = root;
  for (const part of path) text += typeof part === "number" ? `[${part}]` : text === "" ? String(part) : `.${String(part)}`;
  return text || "body";
}

/** Zod reports a bad record key as "Invalid key in record", with the key's own problem inside: show that. */
function innerMessage(issue: z.core.$ZodIssue): string {
  if (issue.code === "invalid_key" && issue.issues[0]) return issue.issues[0].message;
  return issue.message;
}

/**
 * A union's failure, told by the branch that got furthest into the input (the longest path): the
 * value was most likely meant as that branch, so its problem is the one worth naming.
 */
function deepest(issue: z.core.$ZodIssue, prefix: readonly PropertyKey[]): { path: PropertyKey[]; message: string } {
  const path = [...prefix, ...issue.path];
  if (issue.code !== "invalid_union" || issue.errors.length === 0) return { path, message: innerMessage(issue) };
  let best: { path: PropertyKey[]; message: string } | undefined;
  for (const branch of issue.errors.flat()) {
    const found = deepest(branch, path);
    if (!best || found.path.length > best.path.length) best = found;
  }
  return best ?? { path, message: innerMessage(issue) };
}

/** A ValidationError naming each problem's path from `root`, the first in its message. */
export function validationError(problems: readonly { path: readonly PropertyKey[]; message: string }[], root = ""): ValidationError {
  const issues = problems.map((p) => ({ path: pathText(p.path, root), message: p.message }));
  const first = issues[0];
  const message = first ? `${first.path}: ${first.message}` : "invalid input";
  return new ValidationError(issues.length > 1 ? `${message} (and ${issues.length - 1} more)` : message, { issues });
}

/** Parses input with a schema; a failure is a ValidationError whose message names the field path. */
export function parseInput<S extends z.ZodType>(schema: S, value: unknown, root = ""): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw validationError(
    result.error.issues.map((issue) => deepest(issue, [])),
    root,
  );
}

/**
 * An email address, as strict as JSON Schema's `format: email` (RFC 5321 host labels: no label ends
 * in "-"), so the server and the OpenAPI document accept the same addresses: zod's own pattern, its
 * domain labels narrowed to begin and end with a letter or digit.
 */
const EMAIL = /^(?:[A-Za-z0-9_'+-]+\.)*[A-Za-z0-9_'+-]*[A-Za-z0-9_+-]@(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.)+[A-Za-z]{2,}$/;
export const emailAddress = () => z.email({ pattern: EMAIL });

/**
 * A trigger's or action's name: at most 200 characters, not only whitespace, stored trimmed. The checks
 * run on the name as sent, so the document's `maxLength` and `pattern` are exactly the server's rule.
 */
export const displayName = () => z.string().max(200).regex(/\S/, "name must not be empty").trim();
