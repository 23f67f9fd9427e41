/**
 * fast-check values from the JSON schemas of the OpenAPI document: the keywords the document uses
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
      return fc.jsonValue({ maxDepth: 2 });
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
  const values = isSchema(additional) ? arbitraryFor(additional, resolve, depth + 1) : fc.jsonValue({ maxDepth: 1 });
  const extra = fc.dictionary(
    names.filter((name) => !(name in properties)),
    values,
    { maxKeys: MAX_EXTRA_KEYS },
  );
  return fc.tuple(known, extra).map(([k, e]) => ({ ...e, ...k }));
}
