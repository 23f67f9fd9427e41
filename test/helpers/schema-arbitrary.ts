/**
 * fast-check values from the JSON schemas of the OpenAPI document, and mutants of values: the keywords the document uses
 * (type, const, enum, anyOf/oneOf, properties, required, additionalProperties, propertyNames, items,
 * length and range bounds, pattern, format). Values are meant to be valid; the caller classifies each
 * with the validator, so a keyword this misses makes a sample invalid, never a wrong verdict.
 */
import fc from "fast-check";
import type { JsonSchema } from "./contract.js";

/** Resolves `#/components/schemas/X` references against the document. */
export type Resolve = (ref: string) => JsonSchema;

const num = (value: unknown): number | undefined => (typeof value === "number" ? value : undefined);
const isSchema = (value: unknown): value is JsonSchema => typeof value === "object" && value !== null && !Array.isArray(value);

/** Any JSON, without the `__proto__` keys the server refuses as prototype poisoning (which the document does not describe). */
export const json = (maxDepth: number) => fc.jsonValue({ maxDepth }).filter((value) => !JSON.stringify(value).includes('"__proto__"'));

/** Small collections: the fuzzer needs variety, not size. */
const MAX_ITEMS = 3;
const MAX_EXTRA_KEYS = 2;

export function arbitraryFor(schema: JsonSchema, resolve: Resolve, depth = 0): fc.Arbitrary<unknown> {
  if (typeof schema.$ref === "string") return arbitraryFor(resolve(schema.$ref), resolve, depth);
  if ("const" in schema) return fc.constant(schema.const);
  if (Array.isArray(schema.enum)) return fc.constantFrom(...(schema.enum as unknown[]));
  const branches = (schema.anyOf ?? schema.oneOf) as JsonSchema[] | undefined;
  if (branches) return fc.oneof(...branches.map((b) => arbitraryFor(b, resolve, depth + 1)));
  const type = schema.type;
  if (Array.isArray(type)) return fc.oneof(...type.map((t) => arbitraryFor({ ...schema, type: t }, resolve, depth)));
  switch (type) {
    case "null":
      return fc.constant(null);
    case "boolean":
      return fc.boolean();
    case "integer":
      return fc.integer({ min: num(schema.minimum) ?? -1_000_000, max: num(schema.maximum) ?? 1_000_000 });
    case "number":
      return fc.double({ noNaN: true, noDefaultInfinity: true, min: num(schema.minimum) ?? -1e9, max: num(schema.maximum) ?? 1e9 });
    case "string":
      return stringFor(schema);
    case "array": {
      const items = isSchema(schema.items) ? schema.items : {};
      const minLength = num(schema.minItems) ?? 0;
      return fc.array(arbitraryFor(items, resolve, depth + 1), { minLength, maxLength: Math.min(num(schema.maxItems) ?? MAX_ITEMS, minLength + MAX_ITEMS) });
    }
    case "object":
      return objectFor(schema, resolve, depth);
    default:
      // No type: anything JSON.
      return json(2);
  }
}

function stringFor(schema: JsonSchema): fc.Arbitrary<string> {
  const minLength = num(schema.minLength) ?? 0;
  const maxLength = num(schema.maxLength);
  const base =
    typeof schema.pattern === "string"
      ? fc.stringMatching(new RegExp(schema.pattern))
      : schema.format === "email"
        ? fc.emailAddress()
        : schema.format === "date-time"
          ? fc.date({ noInvalidDate: true }).map((d) => d.toISOString())
          : fc.string({ minLength, maxLength: Math.min(maxLength ?? 40, minLength + 40) });
  return base.filter((s) => s.length >= minLength && (maxLength === undefined || s.length <= maxLength));
}

function objectFor(schema: JsonSchema, resolve: Resolve, depth: number): fc.Arbitrary<Record<string, unknown>> {
  const properties = isSchema(schema.properties) ? schema.properties : {};
  const required = new Set(Array.isArray(schema.required) ? (schema.required as string[]) : []);
  const known = fc.record(Object.fromEntries(Object.entries(properties).map(([name, s]) => [name, arbitraryFor(isSchema(s) ? s : {}, resolve, depth + 1)])), {
    requiredKeys: Object.keys(properties).filter((name) => required.has(name)),
  });
  const additional = schema.additionalProperties;
  // Closed objects and deep levels get no extra fields; open ones (a loose catalogue object) sometimes do.
  if (additional === false || depth > 3) return known;
  const names = isSchema(schema.propertyNames) ? stringFor(schema.propertyNames) : fc.string({ minLength: 1, maxLength: 12 });
  const values = isSchema(additional) ? arbitraryFor(additional, resolve, depth + 1) : json(1);
  const extra = fc.dictionary(
    names.filter((name) => !(name in properties) && name !== "__proto__"), // see json()
    values,
    { maxKeys: MAX_EXTRA_KEYS },
  );
  return fc.tuple(known, extra).map(([k, e]) => ({ ...e, ...k }));
}

type Change = { kind: "delete" } | { kind: "set"; value: unknown };

/** JSON with one place changed: a key deleted or its value replaced; `path` picks keys by index, and an empty one changes the whole. */
function mutate(value: unknown, path: readonly number[], change: Change): unknown {
  if (path.length === 0) return change.kind === "set" ? change.value : undefined;
  const copy = structuredClone(value);
  let node: unknown = copy;
  for (const [depth, index] of path.entries()) {
    if (typeof node !== "object" || node === null) break;
    const keys = Object.keys(node);
    const key = keys[index % Math.max(keys.length, 1)] ?? "unknown_field";
    const child: unknown = Reflect.get(node, key);
    if (depth === path.length - 1 || typeof child !== "object" || child === null) {
      if (change.kind === "delete") Reflect.deleteProperty(node, key);
      else Reflect.set(node, key, change.value);
      break;
    }
    node = child;
  }
  return copy;
}

/** Values with one place changed (deleted, or replaced by any JSON): mostly invalid, sometimes still valid. */
export function mutated(values: fc.Arbitrary<unknown>): fc.Arbitrary<unknown> {
  const change = fc.oneof(
    fc.constant<Change>({ kind: "delete" }),
    json(1).map((value): Change => ({ kind: "set", value })),
  );
  return fc.tuple(values, fc.array(fc.nat(20), { maxLength: 5 }), change).map(([value, path, c]) => mutate(value, path, c));
}
