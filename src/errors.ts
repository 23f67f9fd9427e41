/**
 * Typed errors. Services throw these; one translator (http/error-handler.ts) turns them into
 * `{"error": {"code", "message"}}` with the status given here. Anything else is a 500 whose
 * details stay in the server log.
 */
export class HooklineError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class ValidationError extends HooklineError {
  constructor(message: string, details?: unknown) {
    super(400, "validation_error", message, details);
  }
}

export class NotFoundError extends HooklineError {
  constructor(what: string, id: string) {
    super(404, "not_found", `${what} ${JSON.stringify(id)} not found`);
  }
}

export class UnauthorizedError extends HooklineError {
  constructor(message = "missing or invalid API key (Authorization: Bearer <api key>)") {
    super(401, "unauthorized", message);
  }
}

export class ConflictError extends HooklineError {
  constructor(message: string) {
    super(409, "conflict", message);
  }
}

export class UnavailableError extends HooklineError {
  constructor(message: string) {
    super(503, "unavailable", message);
  }
}
