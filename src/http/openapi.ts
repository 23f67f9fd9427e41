import { z } from "zod";
import type { Route } from "./route.js";

const errorSchema = z.object({ error: z.object({ code: z.string(), message: z.string() }) });

/** OpenAPI 3.1 document generated from the route table's zod schemas. */
export function openApiDocument(routes: readonly Route[], version: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  const json = (schema: z.ZodType, io: "input" | "output") => z.toJSONSchema(schema, { io, unrepresentable: "any" });
  for (const r of routes) {
    const path = r.path.replace(/:(\w+)/g, "{$1}");
    const params = [...r.path.matchAll(/:(\w+)/g)].map((m) => ({ name: m[1], in: "path", required: true, schema: { type: "string" } }));
    const query = r.query
      ? Object.entries((json(r.query, "input") as { properties?: Record<string, unknown> }).properties ?? {}).map(([name, schema]) => ({
          name,
          in: "query",
          schema,
        }))
      : [];
    const error = (description: string) => ({ description, content: { "application/json": { schema: json(errorSchema, "output") } } });
    paths[path] ??= {};
    paths[path][r.method.toLowerCase()] = {
      summary: r.summary,
      tags: [r.tag],
      ...(r.auth && { security: [{ bearer: [] }] }),
      parameters: [...params, ...query],
      ...(r.body && { requestBody: { required: true, content: { "application/json": { schema: json(r.body, "input") } } } }),
      responses: {
        [r.status]: r.response ? { description: "OK", content: { "application/json": { schema: json(r.response, "output") } } } : { description: "No content" },
        ...Object.fromEntries(Object.entries(r.errors ?? {}).map(([status, when]) => [status, error(when)])),
        "4XX": error("Error"),
      },
    };
  }
  return {
    openapi: "3.1.0",
    info: { title: "Hookline API", version, description: "Webhook trigger/action engine for appointment and scheduling platforms." },
    components: { securitySchemes: { bearer: { type: "http", scheme: "bearer", description: "An account's API key" } } },
    paths,
  };
}
