import { z } from "zod";
import type { ValidationDetails } from "../errors.js";
import type { Route } from "./route.js";

const ValidationDetailsOut: z.ZodType<ValidationDetails> = z.object({ issues: z.array(z.object({ path: z.string(), message: z.string() })) });
/** The error envelope; `details` comes with a validation_error. */
const ErrorOut = z.object({ error: z.object({ code: z.string(), message: z.string(), details: ValidationDetailsOut.optional() }) });

type JsonSchema = Record<string, unknown>;
/** What the document reads of an object's JSON Schema: its properties (a query's parameters). */
const ObjectJsonSchema = z.object({ properties: z.record(z.string(), z.unknown()).optional() });
const COMPONENTS = "#/components/schemas/";

/**
 * A zod schema as JSON Schema. Schemas given an `id` (`.meta({ id })`) become components, and a
 * discriminated union of such schemas gets the OpenAPI `discriminator` with its mapping, so code
 * generators and fuzzers pick the variant by its tag.
 */
function jsonSchema(schema: z.ZodType, io: "input" | "output", components: Record<string, JsonSchema>): JsonSchema {
  // Each schema's own `$schema` goes: the document's dialect is OpenAPI 3.1's, JSON Schema 2020-12.
  const {
    $defs,
    $schema: _dialect,
    ...out
  } = z.toJSONSchema(schema, {
    io,
    unrepresentable: "any",
    override: ({ zodSchema, jsonSchema }) => {
      const def = zodSchema._zod.def;
      if (def.type !== "union" || !("discriminator" in def) || typeof def.discriminator !== "string") return;
      const mapping: Record<string, string> = {};
      for (const option of def.options) {
        const id = z.globalRegistry.get(option)?.id;
        const values = option._zod.propValues?.[def.discriminator];
        if (!id || !values) return;
        for (const value of values) mapping[String(value)] = `${COMPONENTS}${id}`;
      }
      jsonSchema.discriminator = { propertyName: def.discriminator, mapping };
    },
  });
  const refsToComponents = (s: unknown): JsonSchema => JSON.parse(JSON.stringify(s).replaceAll('"#/$defs/', `"${COMPONENTS}`));
  for (const [id, def] of Object.entries($defs ?? {})) components[id] = refsToComponents(def);
  return refsToComponents(out);
}

/** OpenAPI 3.1 document generated from the route table's zod schemas. */
export function openApiDocument(routes: readonly Route[], version: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  const components: Record<string, JsonSchema> = { Error: jsonSchema(ErrorOut, "output", {}) };
  const json = (schema: z.ZodType, io: "input" | "output") => jsonSchema(schema, io, components);
  const error = { description: "Error", content: { "application/json": { schema: { $ref: `${COMPONENTS}Error` } } } };
  for (const r of routes) {
    const path = r.path.replace(/:(\w+)/g, "{$1}");
    const params = [...r.path.matchAll(/:(\w+)/g)].map((m) => ({ name: m[1], in: "path", required: true, schema: { type: "string" } }));
    const query = r.query
      ? Object.entries(ObjectJsonSchema.parse(json(r.query, "input")).properties ?? {}).map(([name, schema]) => ({
          name,
          in: "query",
          schema,
        }))
      : [];
    paths[path] ??= {};
    paths[path][r.method.toLowerCase()] = {
      summary: r.summary,
      tags: [r.tag],
      ...(r.auth && { security: [{ bearer: [] }] }),
      parameters: [...params, ...query],
      // No body counts as `{}`, so the body is required only where `{}` is refused.
      ...(r.body && {
        requestBody: { required: !r.body.safeParse({}).success, content: { "application/json": { schema: json(r.body, "input") } } },
      }),
      responses: {
        [r.status]: r.response ? { description: "OK", content: { "application/json": { schema: json(r.response, "output") } } } : { description: "No content" },
        ...Object.fromEntries(Object.entries(r.errors ?? {}).map(([status, when]) => [status, { ...error, description: when }])),
        "4XX": error,
        "5XX": error,
      },
    };
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "Hookline API",
      version,
      description:
        "Webhook trigger/action engine for appointment and scheduling platforms. A query parameter an operation does not list is refused (400), as is an unknown body field; a known path called with another method answers 405 with an Allow header.",
    },
    components: { securitySchemes: { bearer: { type: "http", scheme: "bearer", description: "An account's API key" } }, schemas: components },
    paths,
  };
}
