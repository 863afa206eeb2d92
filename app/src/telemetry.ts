// Prometheus metrics for the demo app. The request handlers know nothing about this module: the
// instrumentation middleware (instrumentation.ts) records every answered request, and app.ts serves
// `metricsEndpoint` on /metrics.
import type { RequestHandler } from 'express';
import { Counter, Histogram, Registry, collectDefaultMetrics, type Metric, type OpenMetricsContentType } from 'prom-client';

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
  /** The request's id (X-Request-Id, in its log line too): the duration's exemplar. @default none: no exemplar */
  readonly requestId?: string;
}

/** The exemplar label that carries the request id: the same name as the log line's field. */
export const EXEMPLAR_LABEL = 'request_id';

/**
 * OpenMetrics caps an exemplar's labels at 128 characters, names and values together (prom-client throws
 * beyond), so a request id that is to be an exemplar is at most this long.
 */
export const MAX_EXEMPLAR_REQUEST_ID_LENGTH = 128 - EXEMPLAR_LABEL.length;

export interface TelemetryOptions {
  /**
   * Attach each request's id to its duration observation as an exemplar, served in the OpenMetrics format to
   * the scrapers that ask for it (Prometheus and Alloy do). prom-client keeps one exemplar per bucket of each
   * series, the latest: at most 15 per method, route and status. @default true
   */
  readonly exemplars?: boolean;
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

export function createTelemetry(registry: Registry = new Registry(), options: TelemetryOptions = {}): Telemetry {
  const exemplars = options.exemplars ?? true;
  collectDefaultMetrics({ register: registry });

  // Labels are bounded by construction: method (10 values), route (the app's templates + `unmatched`),
  // status_code (what the app answers). Nothing a client sends can create a new series.
  const labelNames = ['method', 'route', 'status_code'] as const;
  const duration = new Histogram({
    name: 'http_server_request_duration_seconds',
    help: 'Duration of HTTP server requests (OpenTelemetry http.server.request.duration).',
    labelNames,
    buckets: OTEL_DURATION_BUCKETS,
    enableExemplars: exemplars,
    // Registered below: prom-client refuses exemplars in a text-format registry at construction, though the
    // text format only leaves them out. This registry writes text; /metrics writes OpenMetrics on request.
    registers: [],
  });
  registry.registerMetric(duration);
  const requests = new Counter({
    name: 'my_app_requests_total',
    help: 'Requests answered by the app, errors included; /metrics and the probes are not counted.',
    labelNames,
    registers: [registry],
  });

  const record = (answered: AnsweredRequest): void => {
    const labels = { method: normalizeMethod(answered.method), route: answered.route, status_code: answered.status };
    if (exemplars) {
      // An id too long for an exemplar (the middleware never makes one) is left out rather than thrown on.
      const id = answered.requestId;
      const exemplarLabels: Record<string, string> = id !== undefined && id.length <= MAX_EXEMPLAR_REQUEST_ID_LENGTH ? { [EXEMPLAR_LABEL]: id } : {};
      duration.observe({ labels, value: answered.seconds, exemplarLabels });
    } else {
      duration.observe(labels, answered.seconds);
    }
    requests.inc(labels);
  };

  const metricsEndpoint: RequestHandler = async (req, res) => {
    const openMetrics = prefersOpenMetrics(req.accepts());
    const source: Registry<OpenMetricsContentType> | Registry = openMetrics ? openMetricsRegistry(registry) : registry;
    const body = await source.metrics();
    // Exactly prom-client's type for the format: Express's default text/html would fail Prometheus 3 scrapes.
    res.setHeader('Content-Type', source.contentType);
    res.setHeader('Vary', 'Accept');
    res.end(body);
  };

  return { registry, record, metricsEndpoint };
}

const OPENMETRICS = 'application/openmetrics-text';

/**
 * Whether a scraper that accepts these media types (most preferred first, parameters dropped: Express's
 * `req.accepts()`) gets the OpenMetrics format: when it names OpenMetrics before the text format and before
 * any wildcard. Prometheus 2 and 3 and Alloy list OpenMetrics first; curl and browsers (`*\/*`) get text. The
 * version and escaping parameters are not compared: Prometheus 3 adds `escaping=` to its OpenMetrics entry,
 * which a strict match (Express's `req.accepts(types)`) would refuse, falling back to text.
 */
export function prefersOpenMetrics(accepted: readonly string[]): boolean {
  for (const type of accepted) {
    const t = type.toLowerCase();
    if (t === OPENMETRICS) return true;
    if (t === 'text/plain' || t === 'text/*' || t === '*/*') return false;
  }
  return false;
}

/**
 * A registry that writes the same metrics in the OpenMetrics format. prom-client 15.1.3 renames each counter
 * in place when it writes OpenMetrics (`_total` cut off for good, prometheus/client_js#829), after which the text
 * format would lose the suffix too; so counters go in as views (objects whose prototype is the counter) that
 * take the renaming while the values stay the counter's. Made per scrape, so later metrics are included.
 */
function openMetricsRegistry(registry: Registry): Registry<OpenMetricsContentType> {
  const openMetrics = new Registry<OpenMetricsContentType>();
  openMetrics.setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
  // prom-client's declarations type `type` as an enum; at run time it is the string the formats compare.
  for (const metric of registry.getMetricsAsArray() as unknown as Array<Metric & { type: string }>) {
    openMetrics.registerMetric(metric.type === 'counter' ? (Object.create(metric) as Metric) : metric);
  }
  return openMetrics;
}
