// Prometheus metrics for the demo app. The request handlers know nothing about this module: the
// instrumentation middleware (instrumentation.ts) records every answered request, and app.ts serves
// `metricsEndpoint` on /metrics.
import type { RequestHandler } from 'express';
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** What the metrics learn about each answered request. */
export interface AnsweredRequest {
  /** The method as received (the metrics map the non-standard ones to one value). */
  readonly method: string;
  /** The matched route template, e.g. `/api/items/:id`, or `unmatched` (route.ts). */
  readonly route: string;
  /** Path and query as received: for the log line, never for a label. */
  readonly url: string;
  readonly status: number;
  /** From the request's arrival to its response handed to the OS. */
  readonly seconds: number;
}

/** OpenTelemetry's advisory buckets for `http.server.request.duration`, in seconds. */
export const OTEL_DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];

/** The methods OpenTelemetry's HTTP conventions keep; any other becomes `_OTHER`. */
const KNOWN_METHODS = new Set(['CONNECT', 'DELETE', 'GET', 'HEAD', 'OPTIONS', 'PATCH', 'POST', 'PUT', 'TRACE']);

export function normalizeMethod(method: string): string {
  return KNOWN_METHODS.has(method) ? method : '_OTHER';
}

export interface Telemetry {
  /** Holds this app's metrics only, so several apps can live in one process (tests). */
  readonly registry: Registry;
  /** Records an answered request: one duration observation and one count. */
  record(request: AnsweredRequest): void;
  /** Serves the registry in the Prometheus text format. */
  readonly metricsEndpoint: RequestHandler;
}

export function createTelemetry(registry: Registry = new Registry()): Telemetry {
  collectDefaultMetrics({ register: registry });

  // Labels are bounded by construction: method (10 values), route (the app's templates + `unmatched`),
  // status_code (what the app answers). Nothing a client sends can create a new series.
  const labelNames = ['method', 'route', 'status_code'] as const;
  const duration = new Histogram({
    name: 'http_server_request_duration_seconds',
    help: 'Duration of HTTP server requests (OpenTelemetry http.server.request.duration).',
    labelNames,
    buckets: OTEL_DURATION_BUCKETS,
    registers: [registry],
  });
  const requests = new Counter({
    name: 'my_app_requests_total',
    help: 'Requests answered by the app, errors included; /metrics and the probes are not counted.',
    labelNames,
    registers: [registry],
  });

  const record = (answered: AnsweredRequest): void => {
    const labels = { method: normalizeMethod(answered.method), route: answered.route, status_code: answered.status };
    duration.observe(labels, answered.seconds);
    requests.inc(labels);
  };

  const metricsEndpoint: RequestHandler = async (_req, res) => {
    const body = await registry.metrics();
    // Exactly prom-client's type: Express's default text/html would fail Prometheus 3 scrapes.
    res.setHeader('Content-Type', registry.contentType);
    res.end(body);
  };

  return { registry, record, metricsEndpoint };
}
