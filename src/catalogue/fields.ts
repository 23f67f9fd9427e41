/**
 * The fields of each trigger type's payload, read from the catalogue's schemas: what a condition may
 * test, what a timing may be relative to, what a template may insert. Paths are relative to an
 * ingest's `data` and start with the object key (`participant.event.calendar_id`).
 */
import { z } from "zod";
import { type TriggerTypeName, triggerType } from "./trigger-types.js";

/** What a field holds, as conditions compare it; `any` is a field inside an open object (custom data). */
export type FieldKind = "number" | "text" | "date" | "boolean" | "any";

export interface CatalogueField {
  /** Dotted path from `data`, e.g. `event.start_time`. */
  readonly path: string;
  readonly kind: FieldKind;
  readonly description: string;
  /** Its value in the type's example payload, when the example has one. */
  readonly example: unknown;
}

/** A field the catalogue lists, or one inside an open object (`event.custom_data.room`), which holds anything. */
export interface ResolvedField {
  readonly path: string;
  readonly kind: FieldKind;
}

export const FieldKindSchema = z.enum(["number", "text", "date", "boolean", "any"]);

/** Peels `.nullish()`, `.optional()` and the like, keeping the innermost description found. */
function unwrap(schema: z.ZodType): { inner: z.ZodType; description: string } {
  let inner = schema;
  let description = schema.description ?? "";
  while (inner instanceof z.ZodOptional || inner instanceof z.ZodNullable || inner instanceof z.ZodDefault) {
    inner = inner.unwrap() as z.ZodType;
    description = inner.description ?? description;
  }
  return { inner, description };
}

/** A leaf's kind, an object to descend into, an open object (any key beneath), or nothing a field can name (an array). */
type Shape = { leaf: FieldKind } | { object: Record<string, z.ZodType> } | { open: true } | { skip: true };

function shapeOf(schema: z.ZodType): Shape {
  if (schema instanceof z.ZodObject) return { object: schema.shape };
  if (schema instanceof z.ZodRecord) return { open: true };
  // custom_data: an object or an array; conditions reach into the object form.
  if (schema instanceof z.ZodUnion) return schema.options.some((o) => o instanceof z.ZodRecord) ? { open: true } : { skip: true };
  const def = schema._zod.def;
  if (def.type === "number") return { leaf: "number" };
  if (def.type === "boolean") return { leaf: "boolean" };
  // A string format (z.iso.datetime) is a string of its own class: its def names the format.
  if (def.type === "string") return { leaf: "format" in def && def.format === "datetime" ? "date" : "text" };
  return { skip: true };
}

/** A value at a dotted path inside `data`; undefined where any step is missing or not an object. */
export function valueAt(data: unknown, path: string): unknown {
  let value = data;
  for (const key of path.split(".")) {
    if (value === null || typeof value !== "object" || Array.isArray(value)) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

interface Walked {
  fields: CatalogueField[];
  /** Paths of open objects: any path beneath one names a field of kind `any`. */
  open: string[];
}

function walk(schema: z.ZodType, path: string, example: unknown, into: Walked): void {
  const { inner, description } = unwrap(schema);
  const shape = shapeOf(inner);
  if ("leaf" in shape) into.fields.push({ path, kind: shape.leaf, description, example: valueAt(example, path) });
  else if ("open" in shape) into.open.push(path);
  else if ("object" in shape) for (const [key, child] of Object.entries(shape.object)) walk(child, `${path}.${key}`, example, into);
}

const walked = new Map<TriggerTypeName, Walked>();

function walkedFor(type: TriggerTypeName): Walked {
  let entry = walked.get(type);
  if (!entry) {
    const { objectKey, schema, example } = triggerType(type);
    entry = { fields: [], open: [] };
    const objectSchema = schema instanceof z.ZodObject ? schema.shape[objectKey] : undefined;
    if (objectSchema) walk(objectSchema, objectKey, example, entry);
    walked.set(type, entry);
  }
  return entry;
}

/** Every field a trigger type's payload has, in the catalogue's order. */
export function fieldsOf(type: TriggerTypeName): readonly CatalogueField[] {
  return walkedFor(type).fields;
}

/** The paths of the open objects (custom data, booking form answers) of a type's payload. */
export function openObjectsOf(type: TriggerTypeName): readonly string[] {
  return walkedFor(type).open;
}

/** The field a path names in a type's payload, or undefined when the catalogue has no such field. */
export function fieldAt(type: TriggerTypeName, path: string): ResolvedField | undefined {
  const { fields, open } = walkedFor(type);
  const listed = fields.find((f) => f.path === path);
  if (listed) return { path, kind: listed.kind };
  return open.some((o) => path.startsWith(`${o}.`) && path.length > o.length + 1) ? { path, kind: "any" } : undefined;
}
