/**
 * The API contract, checked on every response a test Hookline sends: the status must be one the
 * OpenAPI document declares for the operation, and the body must match the declared schema. An
 * error from a path no operation answers (404, 405) must still be the error envelope. A mismatch
 * fails the test running when it was sent; one sent outside a test (a beforeAll) fails stop().
 */
import { Ajv2020, type ValidateFunction } from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import { onTestFinished } from "vitest";
import type { ResponseInspector } from "../../src/http/app.js";

type Inspected = Parameters<ResponseInspector>[0];
export type JsonSchema = Record<string, unknown>;

interface Operation {
  parameters?: { name: string; in: string; required?: boolean; schema: JsonSchema }[];
  requestBody?: { required: boolean; content: { "application/json": { schema: JsonSchema } } };
  responses: Record<string, { content?: { "application/json": { schema: JsonSchema } } }>;
}

export interface OpenApiDocument {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, JsonSchema> };
}

const DOCUMENT_ID = "openapi.json";

/** JSON Pointer escaping (RFC 6901), for a path such as /api/v1/triggers/{id}. */
const pointer = (...parts: string[]) => parts.map((p) => p.replaceAll("~", "~0").replaceAll("/", "~1")).join("/");

export class ApiContract {
  private readonly ajv: Ajv2020;
  private readonly validators = new Map<string, ValidateFunction>();

  constructor(readonly document: OpenApiDocument) {
    this.ajv = new Ajv2020({ allErrors: true, strict: true });
    addFormats.default(this.ajv);
    // The document's parts hold the schemas that pointers reach; `discriminator` is OpenAPI's hint for
    // code generators (oneOf already says which variant is valid).
    for (const keyword of ["components", "paths", "discriminator"]) this.ajv.addKeyword(keyword);
    this.ajv.addSchema({ $id: DOCUMENT_ID, components: document.components, paths: document.paths });
  }

  /** The operation at a document path (`/api/v1/triggers/{id}`) and method, if the document has one. */
  operation(path: string, method: string): Operation | undefined {
    return this.document.paths[path]?.[method.toLowerCase()];
  }

  /** Problems of `value` against the schema at a JSON pointer into the document (`#/paths/…`), or undefined if valid. */
  problems(at: string, value: unknown): string | undefined {
    let validate = this.validators.get(at);
    if (!validate) {
      validate = this.ajv.compile({ $ref: `${DOCUMENT_ID}${at}` });
      this.validators.set(at, validate);
    }
    if (validate(value)) return undefined;
    return this.ajv.errorsText(validate.errors, { dataVar: "body" });
  }

  /** The schema a request body of this operation must match, as a pointer for `problems`. */
  requestBodyAt(path: string, method: string): string {
    return `#/${pointer("paths", path, method.toLowerCase(), "requestBody", "content", "application/json", "schema")}`;
  }

  /** What is wrong with a response, or undefined when the document describes it. */
  check(response: Inspected): string | undefined {
    if (response.method === "HEAD") return undefined;
    const path = response.route?.replace(/:(\w+)/g, "{$1}");
    const operation = path ? this.operation(path, response.method) : undefined;
    if (!path || !operation) {
      // Outside the document (the UI, /health, provider callbacks) only an API error has a shape to keep.
      const apiError = response.route === undefined && response.url.startsWith("/api/") && response.status >= 400;
      return apiError ? this.checkBody("#/components/schemas/Error", response.body) : undefined;
    }
    const status = String(response.status);
    const declared = [status, `${status[0]}XX`, "default"].find((key) => key in operation.responses);
    if (!declared) return `status ${status} is not declared (declared: ${Object.keys(operation.responses).join(", ")})`;
    const schema = operation.responses[declared]?.content?.["application/json"]?.schema;
    if (!schema) return response.body ? `status ${status} declares no body, but one was sent: ${response.body.slice(0, 200)}` : undefined;
    return this.checkBody(
      `#/${pointer("paths", path, response.method.toLowerCase(), "responses", declared, "content", "application/json", "schema")}`,
      response.body,
    );
  }

  private checkBody(at: string, body: string | undefined): string | undefined {
    if (body === undefined) return "the body is not JSON text";
    let value: unknown;
    try {
      value = JSON.parse(body);
    } catch {
      return `the body is not JSON: ${body.slice(0, 200)}`;
    }
    return this.problems(at, value);
  }
}

const contracts = new Map<string, ApiContract>();

/** One compiled contract per document (every test Hookline of a run publishes the same one). */
export function contractFor(document: OpenApiDocument): ApiContract {
  const key = JSON.stringify(document);
  let contract = contracts.get(key);
  if (!contract) {
    contract = new ApiContract(document);
    contracts.set(key, contract);
  }
  return contract;
}

/** A response's mismatch; a checker that throws is one too, and must not turn the answer into a 500. */
export function checkResponse(contract: ApiContract | undefined, response: Inspected): string | undefined {
  try {
    return contract?.check(response);
  } catch (error) {
    return `the contract check failed: ${String(error)}`;
  }
}

/**
 * Reports a response's mismatch: to the running test, which then fails when it finishes, or, with no
 * test running, to `outside` (read by stop()).
 */
export function reportMismatch(response: Inspected, problem: string, outside: string[]): void {
  const text = `${response.method} ${response.url} answered ${response.status}, which the OpenAPI document does not describe: ${problem}`;
  try {
    onTestFinished(() => {
      throw new Error(text);
    });
  } catch {
    outside.push(text);
  }
}
