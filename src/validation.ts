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

/** Parses input with a schema; a failure is a ValidationError whose message names the field path. */
export function parseInput<S extends z.ZodType>(schema: S, value: unknown, root = ""): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issues = result.error.issues.map((issue) => ({ path: pathText(issue.path, root), message: innerMessage(issue) }));
  const first = issues[0];
  const message = first ? `${first.path}: ${first.message}` : "invalid input";
  throw new ValidationError(issues.length > 1 ? `${message} (and ${issues.length - 1} more)` : message, { issues });
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
