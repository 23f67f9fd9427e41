import { describe, expect, expectTypeOf, it } from "vitest";
import { z } from "zod";
import { createLogger } from "../logger.js";
import { buildApp } from "./app.js";
import { createRateLimiter } from "./rate-limit.js";
import { type Route, route } from "./route.js";

const Params = z.object({ id: z.string() });
const Query = z.strictObject({ hours: z.coerce.number().int().default(24) });
const Body = z.strictObject({ name: z.string(), tags: z.array(z.string()).default([]) });

/** A route whose handler answers with the input it was given. */
const echo = route({
  method: "POST",
  path: "/things/:id",
  summary: "Echo",
  tag: "test",
  auth: false,
  params: Params,
  query: Query,
  body: Body,
  status: 200,
  handler: async ({ params, query, body }) => ({ params, query, body }),
});

function serve(routes: Route[]) {
  return buildApp({
    routes,
    resolveSession: async () => undefined,
    resolveKey: async () => undefined,
    ready: async () => true,
    logger: createLogger("silent"),
    rateLimiter: createRateLimiter({ ingest: 0, api: 0 }),
    maxBodyBytes: 1024,
    version: "test",
  });
}

describe("a route's handler", () => {
  it("is typed by its route's schemas: reading a field they do not give fails to compile", () => {
    route({
      method: "POST",
      path: "/things/:id",
      summary: "Typed",
      tag: "test",
      auth: true,
      params: Params,
      query: Query,
      body: Body,
      status: 204,
      handler: async ({ params, query, body }) => {
        expectTypeOf(params).toEqualTypeOf<{ id: string }>();
        expectTypeOf(query).toEqualTypeOf<{ hours: number }>();
        expectTypeOf(body).toEqualTypeOf<{ name: string; tags: string[] }>();
        // @ts-expect-error: the params schema has no `name`
        return params.name;
      },
    });
    route({
      method: "POST",
      path: "/things",
      summary: "Parsed by hand",
      tag: "test",
      auth: true,
      body: Body,
      parseBody: (raw) => [Body.parse(raw)],
      rate: { class: "ingest", cost: (things) => things.length },
      status: 204,
      handler: async ({ params, query, body }) => {
        expectTypeOf(body).toEqualTypeOf<{ name: string; tags: string[] }[]>();
        // @ts-expect-error: without schemas a handler gets no path parameters
        params.id;
        // @ts-expect-error: nor query parameters
        return query.hours;
      },
    });
  });

  it("gets its input as the schemas parsed it: the path's parameter, the query coerced and defaulted, the body's defaults filled", async () => {
    const app = serve([echo]);
    const response = await app.inject({ method: "POST", url: "/things/t_1?hours=6", payload: { name: "a" } });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ params: { id: "t_1" }, query: { hours: 6 }, body: { name: "a", tags: [] } });
    await app.close();
  });

  it("is not called when its input fails a schema: the answer is a 400 naming the field", async () => {
    const app = serve([echo]);
    const query = await app.inject({ method: "POST", url: "/things/t_1?hours=many", payload: { name: "a" } });
    expect(query.statusCode).toBe(400);
    expect(query.json().error.message).toMatch(/^query\.hours: /);
    const body = await app.inject({ method: "POST", url: "/things/t_1", payload: { name: 1 } });
    expect(body.statusCode).toBe(400);
    expect(body.json().error.message).toMatch(/^name: /);
    await app.close();
  });
});
