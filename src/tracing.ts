/**
 * Optional OpenTelemetry tracing: with HOOKLINE_OTLP_ENDPOINT set, ingest requests and delivery
 * attempts become spans (`hookline.ingest`, `hookline.deliver`) exported over OTLP/HTTP (JSON) to
 * `<endpoint>/v1/traces`, in batches, off the hot path. Without it the tracer is the OpenTelemetry
 * API's global one: a no-op, unless the operator registered an SDK of their own (e.g. with
 * `node --import`), which then receives the same spans.
 *
 * The two spans are separate traces (delivery runs later, maybe in another process); they share
 * `hookline.event_id` / `hookline.instance_id` attributes to be found together.
 */
import { type Tracer, trace } from "@opentelemetry/api";

export interface Tracing {
  tracer: Tracer;
  /** Exports what is still buffered; called at shutdown. */
  close(): Promise<void>;
}

export async function createTracing({ endpoint, version, role }: { endpoint: string | undefined; version: string; role: string }): Promise<Tracing> {
  if (!endpoint) return { tracer: trace.getTracer("hookline", version), close: async () => {} };
  // Loaded only when tracing is on: the SDK and its exporter are megabytes of heap that a server
  // without tracing (the default) would carry for nothing (docs/PERFORMANCE.md, item 18).
  const [{ OTLPTraceExporter }, { resourceFromAttributes }, { BatchSpanProcessor, TracerProvider }] = await Promise.all([
    import("@opentelemetry/exporter-trace-otlp-http"),
    import("@opentelemetry/resources"),
    import("@opentelemetry/sdk-trace"),
  ]);
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ "service.name": "hookline", "service.version": version, "hookline.role": role }),
    spanProcessors: [new BatchSpanProcessor({ exporter: new OTLPTraceExporter({ url: `${endpoint.replace(/\/+$/, "")}/v1/traces` }) })],
  });
  return { tracer: provider.getTracer("hookline", version), close: () => provider.shutdown() };
}
