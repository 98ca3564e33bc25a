// Tracing: one OpenTelemetry span per gRPC call, configured by the standard OTEL_* environment
// variables and off unless they ask for it. Spans are made by hand in the one call interceptor
// (server/grpc/telemetry.ts, through CallTracer) rather than by
// @opentelemetry/instrumentation-grpc, which patches grpc-js through require hooks that an ES
// module server does not go through. A call's parent comes from its W3C `traceparent` metadata.
// The tracer provider is the server's own, never registered globally. When tracing is off there
// is no tracer, the interceptor skips every tracing step, and the OpenTelemetry packages are not
// even loaded (they are imported when tracing is turned on: the SDK and its OTLP exporter take
// a noticeable part of a second to load).
//
// Environment (https://opentelemetry.io/docs/specs/otel/configuration/sdk-environment-variables/):
// OTEL_TRACES_EXPORTER (`otlp`, `console`, `none`; a comma-separated list), or an OTLP endpoint
// alone (OTEL_EXPORTER_OTLP_ENDPOINT / OTEL_EXPORTER_OTLP_TRACES_ENDPOINT), turns tracing on;
// OTEL_SDK_DISABLED=true turns it off. The SDK reads the rest itself: OTEL_SERVICE_NAME and
// OTEL_RESOURCE_ATTRIBUTES, OTEL_TRACES_SAMPLER(_ARG), OTEL_BSP_*, OTEL_EXPORTER_OTLP_* (OTLP
// over HTTP with protobuf).

import type * as grpc from '@grpc/grpc-js';
import type { TextMapGetter, Tracer } from '@opentelemetry/api';
import type { SpanExporter } from '@opentelemetry/sdk-trace-base';
import type { CallTracer } from './grpc/telemetry.ts';

/** The service name when OTEL_SERVICE_NAME does not give one. */
export const DEFAULT_SERVICE_NAME = 'devcompat';

export interface Tracing {
  readonly tracer: Tracer;
  /** The exporters configured, for the start-up log. */
  readonly exporters: readonly string[];
  /** Exports the spans still buffered, then stops. */
  shutdown(): Promise<void>;
}

/** The exporters the environment asks for; empty when tracing is off. */
export function tracesExporters(env: NodeJS.ProcessEnv = process.env): string[] {
  if ((env.OTEL_SDK_DISABLED ?? '').trim().toLowerCase() === 'true') return [];
  const named = (env.OTEL_TRACES_EXPORTER ?? '')
    .split(',')
    .map((name) => name.trim().toLowerCase())
    .filter(Boolean);
  if (named.length > 0) {
    const unknown = named.filter((name) => !['otlp', 'console', 'none'].includes(name));
    if (unknown.length > 0) throw new Error(`OTEL_TRACES_EXPORTER: unsupported exporter ${unknown.join(', ')} (use otlp, console or none)`);
    return named.includes('none') ? [] : [...new Set(named)];
  }
  return env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ? ['otlp'] : [];
}

/** Tracing as the OTEL_* environment configures it; undefined when it is off. */
export async function tracingFromEnv(env: NodeJS.ProcessEnv = process.env): Promise<Tracing | undefined> {
  const exporters = tracesExporters(env);
  if (exporters.length === 0) return undefined;
  const [{ BasicTracerProvider, BatchSpanProcessor, ConsoleSpanExporter }, { detectResources, envDetector, resourceFromAttributes }] =
    await Promise.all([import('@opentelemetry/sdk-trace-base'), import('@opentelemetry/resources')]);
  const OTLPTraceExporter = exporters.includes('otlp') ? (await import('@opentelemetry/exporter-trace-otlp-proto')).OTLPTraceExporter : undefined;
  const spanExporter = (name: string): SpanExporter => (name === 'console' ? new ConsoleSpanExporter() : new OTLPTraceExporter!());
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': DEFAULT_SERVICE_NAME }).merge(detectResources({ detectors: [envDetector] })),
    spanProcessors: exporters.map((name) => new BatchSpanProcessor(spanExporter(name))),
  });
  return { tracer: provider.getTracer('devcompat'), exporters, shutdown: () => provider.shutdown() };
}

const metadataGetter: TextMapGetter<grpc.Metadata> = {
  keys: (metadata) => Object.keys(metadata.getMap()),
  get: (metadata, key) => {
    const values = metadata.get(key);
    return values.length > 0 ? values.map(String) : undefined;
  },
};

/** Status codes that are the server's fault (OpenTelemetry's gRPC conventions for a server span). */
const SERVER_ERRORS = new Set([2, 4, 12, 13, 14, 15]); // UNKNOWN, DEADLINE_EXCEEDED, UNIMPLEMENTED, INTERNAL, UNAVAILABLE, DATA_LOSS

/**
 * The interceptor's tracer over an OpenTelemetry tracer: a server span per call named
 * `service/method` with rpc.system, rpc.service, rpc.method and, at its end,
 * rpc.grpc.status_code; its parent from the call's `traceparent`/`tracestate` metadata.
 */
export async function callTracer(tracer: Tracer): Promise<CallTracer> {
  const [{ ROOT_CONTEXT, SpanKind, SpanStatusCode }, { W3CTraceContextPropagator }] = await Promise.all([
    import('@opentelemetry/api'),
    import('@opentelemetry/core'),
  ]);
  const propagator = new W3CTraceContextPropagator();
  return {
    start(service, method, metadata) {
      const span = tracer.startSpan(
        `${service}/${method}`,
        { kind: SpanKind.SERVER, attributes: { 'rpc.system': 'grpc', 'rpc.service': service, 'rpc.method': method } },
        propagator.extract(ROOT_CONTEXT, metadata, metadataGetter),
      );
      return {
        end(code, details) {
          span.setAttribute('rpc.grpc.status_code', code);
          if (SERVER_ERRORS.has(code)) span.setStatus({ code: SpanStatusCode.ERROR, message: details });
          span.end();
        },
      };
    },
  };
}
