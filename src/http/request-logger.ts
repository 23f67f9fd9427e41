/**
 * Each request's logger, made when the request first logs. Fastify gives every request a child of
 * the server's logger bound to the request's id; pino builds a child's bindings through its
 * redaction, parsing the redact paths (logger.ts) again for each one: work on every request for a
 * logger that writes only when a request fails. The stand-in holds the parent and the bindings, and makes the
 * real child on the first log call; lines then carry the request's id as before.
 */
import type { FastifyBaseLogger } from "fastify";

type Bindings = Parameters<FastifyBaseLogger["child"]>[0];
type ChildOptions = Parameters<FastifyBaseLogger["child"]>[1];

const LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;

class LazyChildLogger {
  #child: FastifyBaseLogger | undefined;

  constructor(
    private readonly parent: FastifyBaseLogger,
    private readonly bindings: Bindings,
    private readonly options: ChildOptions,
  ) {}

  get real(): FastifyBaseLogger {
    this.#child ??= this.parent.child(this.bindings, this.options);
    return this.#child;
  }

  get level(): string {
    return this.real.level;
  }
  set level(level: string) {
    this.real.level = level;
  }

  child(bindings: Bindings, options?: ChildOptions): FastifyBaseLogger {
    return this.real.child(bindings, options);
  }
}

// One method per level, on the prototype (not one closure per request), each passing its
// arguments through. Fastify checks that a request's logger has them without calling them.
for (const level of LEVELS) {
  Object.defineProperty(LazyChildLogger.prototype, level, {
    value(this: LazyChildLogger, ...args: unknown[]) {
      (this.real as unknown as Record<typeof level, (...a: unknown[]) => void>)[level](...args);
    },
  });
}

/** For Fastify's `childLoggerFactory`. */
export function lazyRequestLogger(logger: FastifyBaseLogger, bindings: Bindings, options: ChildOptions): FastifyBaseLogger {
  return new LazyChildLogger(logger, bindings, options) as unknown as FastifyBaseLogger;
}
