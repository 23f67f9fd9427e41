/**
 * A route as data: method, path, schemas and handler. The same table registers the Fastify routes
 * and generates the OpenAPI document, so the docs cannot drift from what the server accepts.
 */
import type { z } from "zod";
import type { RateClass } from "./rate-limit.js";

export interface RouteContext<B, Q> {
  accountId: string;
  params: Record<string, string>;
  body: B;
  query: Q;
}

export interface Route<B = unknown, Q = unknown> {
  method: "GET" | "POST" | "PATCH" | "DELETE";
  /** Fastify-style path: `/api/v1/triggers/:id`. */
  path: string;
  summary: string;
  tag: string;
  /** false for public routes (catalogue, health). */
  auth: boolean;
  /** The account's rate limit this route draws on (authenticated routes; default "api", cost 1 per call). */
  rate?: { class: RateClass; cost?: (body: B) => number };
  body?: z.ZodType;
  query?: z.ZodType;
  /** Replaces schema parsing of the body where validation depends on the content (ingest). */
  parseBody?: (raw: unknown) => B;
  status: number;
  response?: z.ZodType;
  /** Errors of its own a client should handle (a conflict, a limit): status → when; documented beside the generic 4XX. */
  errors?: Readonly<Record<number, string>>;
  handler: (ctx: RouteContext<B, Q>) => Promise<unknown>;
}

/** Keeps each route's body/query types inferred while the table holds them all. */
export function route<B, Q>(r: Route<B, Q>): Route<unknown, unknown> {
  return r as unknown as Route<unknown, unknown>;
}
