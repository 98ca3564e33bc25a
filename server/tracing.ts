// Tracing: one OpenTelemetry span per gRPC call, configured by the standard OTEL_* environment
// variables and off unless they ask for it. Spans are made by hand in the one call interceptor
// (server/grpc/telemetry.ts) rather than by @opentelemetry/instrumentation-grpc, which patches
// grpc-js through require hooks that an ES module server does not go through. A call's parent
// comes from its W3C `traceparent` metadata. The tracer provider is the server's own, never
// registered globally, and when tracing is off there is no tracer: the interceptor skips every
// tracing step, so it costs nothing.
//
// Environment (https://opentelemetry.io/docs/specs/otel/configuration/sdk-environment-variables/):
// OTEL_TRACES_EXPORTER (`otlp`, `console`, `none`; a comma-separated list), or an OTLP endpoint
// alone (OTEL_EXPORTER_OTLP_ENDPOINT / OTEL_EXPORTER_OTLP_TRACES_ENDPOINT), turns tracing on;
// OTEL_SDK_DISABLED=true turns it off. The SDK reads the rest itself: OTEL_SERVICE_NAME and
// OTEL_RESOURCE_ATTRIBUTES, OTEL_TRACES_SAMPLER(_ARG), OTEL_BSP_*, OTEL_EXPORTER_OTLP_* (OTLP
// over HTTP with protobuf).

import type * as grpc from '@grpc/grpc-js';
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, type Span, type TextMapGetter, type Tracer } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { detectResources, envDetector, resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor, ConsoleSpanExporter, type SpanExporter } from '@opentelemetry/sdk-trace-base';

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
export function tracingFromEnv(env: NodeJS.ProcessEnv = process.env): Tracing | undefined {
  const exporters = tracesExporters(env);
  if (exporters.length === 0) return undefined;
  const spanExporter = (name: string): SpanExporter => (name === 'console' ? new ConsoleSpanExporter() : new OTLPTraceExporter());
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': DEFAULT_SERVICE_NAME }).merge(detectResources({ detectors: [envDetector] })),
    spanProcessors: exporters.map((name) => new BatchSpanProcessor(spanExporter(name))),
  });
  return { tracer: provider.getTracer('devcompat'), exporters, shutdown: () => provider.shutdown() };
}

const propagator = new W3CTraceContextPropagator();

const metadataGetter: TextMapGetter<grpc.Metadata> = {
  keys: (metadata) => Object.keys(metadata.getMap()),
  get: (metadata, key) => {
    const values = metadata.get(key);
    return values.length > 0 ? values.map(String) : undefined;
  },
};

/** Status codes that are the server's fault (OpenTelemetry's gRPC conventions for a server span). */
const SERVER_ERRORS = new Set([2, 4, 12, 13, 14, 15]); // UNKNOWN, DEADLINE_EXCEEDED, UNIMPLEMENTED, INTERNAL, UNAVAILABLE, DATA_LOSS

/** Starts a call's server span, the child of the caller's `traceparent` when it sent one. */
export function startCallSpan(tracer: Tracer, service: string, method: string, metadata: grpc.Metadata): Span {
  const parent = propagator.extract(ROOT_CONTEXT, metadata, metadataGetter);
  return tracer.startSpan(
    `${service}/${method}`,
    { kind: SpanKind.SERVER, attributes: { 'rpc.system': 'grpc', 'rpc.service': service, 'rpc.method': method } },
    parent,
  );
}

/** Ends a call's span with its status code. */
export function endCallSpan(span: Span, code: grpc.status, details: string | undefined): void {
  span.setAttribute('rpc.grpc.status_code', code);
  if (SERVER_ERRORS.has(code)) span.setStatus({ code: SpanStatusCode.ERROR, message: details });
  span.end();
}
