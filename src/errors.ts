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
    /** Response headers that go with this error (Retry-After). */
    readonly headers?: Readonly<Record<string, string>>,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** What a validation_error carries beside its message: every problem, each at its field path. */
export interface ValidationDetails {
  issues: { path: string; message: string }[];
}

export class ValidationError extends HooklineError {
  constructor(message: string, details?: ValidationDetails) {
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

/** An idempotency key sent again with a different event (https://docs.stripe.com/api/idempotent_requests). */
export class IdempotencyConflictError extends HooklineError {
  constructor(message: string) {
    super(409, "idempotency_conflict", message);
  }
}

export class UnavailableError extends HooklineError {
  constructor(message: string) {
    super(503, "unavailable", message);
  }
}

export class RateLimitedError extends HooklineError {
  constructor(retryAfterSeconds: number) {
    super(429, "rate_limited", `too many requests for this account; retry after ${retryAfterSeconds} s`, undefined, {
      "retry-after": String(retryAfterSeconds),
    });
  }
}

/** A per-account cap (triggers, actions) is reached. */
export class LimitReachedError extends HooklineError {
  constructor(message: string) {
    super(409, "limit_reached", message);
  }
}
