// Per-request instrumentation: one Express middleware, the idiom of prom-client's README (a timer at entry,
// observed when the response is done) and of pino-http (a request-scoped logger, one line per request).
// Copy it into your own service as it is: it needs telemetry.ts (the metrics) and logger.ts (the line).
//
// For every request it:
// - gives it an id (the caller's X-Request-Id when safe to echo and to log, else a new UUID), echoed in
//   the response's X-Request-Id;
// - gives the handlers `req.log`, a logger whose every line carries that id (`request_id`);
// - when the response has been handed to the OS ('finish'), observes the duration histogram (the id as its
//   exemplar), counts the request, and writes the request's log line, with `res.locals.err` (an error
//   handler's) and its stack.
// A response the client abandoned first never finishes and is not recorded (README: "What is counted").
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { RequestHandler } from 'express';
import type { Logger } from 'pino';
import { logRequest } from './logger';
import { matchedRoute } from './route';
import { MAX_EXEMPLAR_REQUEST_ID_LENGTH, type Telemetry } from './telemetry';

declare module 'express-serve-static-core' {
  interface Request {
    /** The request's id, as echoed in X-Request-Id. */
    id: string;
    /** A logger whose lines carry the request's id. */
    log: Logger;
  }
}

export interface InstrumentationOptions {
  readonly telemetry: Telemetry;
  readonly logger: Logger;
  /** Route templates whose requests are neither counted nor logged (the probes and /metrics). @default none */
  readonly unrecordedRoutes?: ReadonlySet<string>;
}

/**
 * A caller's X-Request-Id is kept only if it is safe to echo, to log and to quote in a LogQL string, and short
 * enough to be an exemplar (telemetry.ts); otherwise a new one is made.
 */
const REQUEST_ID = new RegExp(`^[\\w.:-]{1,${MAX_EXEMPLAR_REQUEST_ID_LENGTH}}$`);

export function instrumentRequests(options: InstrumentationOptions): RequestHandler {
  const { telemetry, logger } = options;
  const unrecorded = options.unrecordedRoutes ?? new Set<string>();
  return (req, res, next) => {
    const start = performance.now();
    const incoming = req.headers['x-request-id'];
    req.id = typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
    req.log = logger.child({ request_id: req.id });
    res.setHeader('X-Request-Id', req.id);
    res.on('finish', () => {
      const route = matchedRoute(req);
      if (unrecorded.has(route)) return;
      const answered = { method: req.method, route, url: req.originalUrl, status: res.statusCode, seconds: (performance.now() - start) / 1000, requestId: req.id };
      try {
        telemetry.record(answered);
      } catch (err) {
        // An event listener's throw would end the process: the request's line still goes out.
        req.log.error({ err }, 'recording the request\'s metrics failed');
      }
      logRequest(req.log, answered, res.statusCode >= 500 ? res.locals.err : undefined);
    });
    next();
  };
}
