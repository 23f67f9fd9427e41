/**
 * A route as data: method, path, schemas and handler. The same table registers the Fastify routes
 * and generates the OpenAPI document, so the docs cannot drift from what the server accepts.
 */
import { z } from "zod";
import type { RateClass } from "./rate-limit.js";

/** Typed as an empty object, so a handler without a schema for them cannot read any. */
type Nothing = z.ZodType<Record<never, never>>;
/** A route without a schema for its path's parameters gets none (its handler cannot read them). */
export const NO_PARAMS: Nothing = z.object({});
/** A route without query parameters refuses any, as a body refuses an unknown field. */
export const NO_QUERY: Nothing = z.strictObject({});

/** What a handler gets: the caller's account and the request's input as its route's schemas parsed it. */
export interface RouteContext<P, Q, B> {
  accountId: string;
  params: P;
  query: Q;
  body: B;
}

/**
 * A route whose handler is typed by its schemas: `params`, `query` and `body` are what they parse
 * to, so changing a schema changes what the handler may read.
 */
export interface RouteSpec<P extends z.ZodType, Q extends z.ZodType, S extends z.ZodType, B> {
  method: "GET" | "POST" | "PATCH" | "DELETE";
  /** Fastify-style path: `/api/v1/triggers/:id`. */
  path: string;
  summary: string;
  tag: string;
  /** false for public routes (catalogue, health). */
  auth: boolean;
  /** The account's rate limit this route draws on (authenticated routes; default "api", cost 1 per call). */
  rate?: { class: RateClass; cost?: (body: NoInfer<B>) => number };
  /** The path's parameters by name (`:id` is `id`); documented from the path, where each is a string. */
  params?: P;
  query?: Q;
  /** The body as documented, and as parsed unless `parseBody` is given. */
  body?: S;
  /** Replaces schema parsing of the body where validation depends on the content (ingest). */
  parseBody?: (raw: unknown) => B;
  status: number;
  response?: z.ZodType;
  /** Errors of its own a client should handle (a conflict, a limit): status → when; documented beside the generic 4XX. */
  errors?: Readonly<Record<number, string>>;
  handler: (ctx: RouteContext<z.output<P>, z.output<Q>, NoInfer<B>>) => Promise<unknown>;
}

/** A route as the table holds it, its input types erased: app.ts parses each input with the route's own schemas. */
export type Route = RouteSpec<z.ZodType, z.ZodType, z.ZodType, unknown>;

/**
 * A table entry, its handler typed by the schemas given (absent ones by NO_PARAMS, NO_QUERY and no
 * body); `body` is the parsed body, or what `parseBody` returns when given.
 */
export function route<P extends z.ZodType = typeof NO_PARAMS, Q extends z.ZodType = typeof NO_QUERY, S extends z.ZodType = z.ZodUndefined, B = z.output<S>>(
  spec: RouteSpec<P, Q, S, B>,
): Route;
// The table holds routes of every input type; each is called with what its own schemas parsed.
export function route(spec: Route): Route {
  return spec;
}
