// Structured logs for the demo app: JSON lines on stdout, shaped for Loki.
import { randomUUID } from 'node:crypto';
import type { Response } from 'express';
import pino, { type DestinationStream, type Logger } from 'pino';
import type { RequestRecorder } from './instrumentation';
import { matchedRoute } from './route';

export type { Logger } from 'pino';

export interface LoggerOptions {
  /** pino level name. @default 'info' */
  readonly level?: string;
  /** Where the lines go. @default stdout, written synchronously */
  readonly destination?: DestinationStream;
}

/**
 * A synchronous pino destination (a file descriptor or path). Synchronous writes keep every line and
 * their order when the process exits or crashes; Node writes to pipes synchronously on Linux anyway.
 */
export function syncDestination(dest: number | string): DestinationStream {
  return pino.destination({ dest, sync: true });
}

export function createLogger(options: LoggerOptions = {}): Logger {
  return pino(
    {
      level: options.level ?? 'info',
      // No pid/hostname: in a container the pid is 1 and the pod/container labels already say where.
      base: null,
      // pino's default epoch milliseconds: formatting an ISO string on every line cost about 5% of the
      // throughput in `npm run bench`, and Loki takes each entry's time from the container runtime anyway.
      timestamp: pino.stdTimeFunctions.epochTime,
      // "level":"info" rather than 30: Loki's level detection only reads strings.
      formatters: { level: (label) => ({ level: label }) },
    },
    options.destination ?? syncDestination(1),
  );
}

/** A caller's X-Request-Id is kept only if it is safe to echo and to log; otherwise a new one is made. */
const REQUEST_ID = /^[\w.:-]{1,128}$/;

/** Lets the error handler hand the error to the request log line (logged under `err`, with its stack). */
export function attachError(res: Response, err: unknown): void {
  res.locals.err = err;
}

/**
 * The request log: sets X-Request-Id when a request starts, and writes one line per answered request
 * when it finishes (request_id, method, route (template), url, status, duration_ms, and `err` for
 * failures). Mounted through `instrumentRequests` (instrumentation.ts) together with the metrics.
 */
export function requestLog(logger: Logger): RequestRecorder {
  return {
    start(req, res) {
      const incoming = req.get('x-request-id');
      const requestId = incoming !== undefined && REQUEST_ID.test(incoming) ? incoming : randomUUID();
      res.locals.requestId = requestId;
      res.setHeader('X-Request-Id', requestId);
    },
    finish(req, res, seconds) {
      const status = res.statusCode;
      const line = {
        request_id: res.locals.requestId as string,
        method: req.method,
        route: matchedRoute(req),
        url: req.originalUrl,
        status,
        duration_ms: Math.round(seconds * 1e6) / 1000,
        err: res.locals.err as unknown,
      };
      if (status >= 500) logger.error(line, 'request failed');
      else if (status >= 400) logger.warn(line, 'request completed');
      else logger.info(line, 'request completed');
    },
  };
}
