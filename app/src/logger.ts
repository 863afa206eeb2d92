// Structured logs for the demo app: JSON lines on stdout, shaped for Loki.
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { RequestHandler, Response } from 'express';
import pino, { type DestinationStream, type Logger } from 'pino';
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
      timestamp: pino.stdTimeFunctions.isoTime,
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
 * One log line per answered request: request_id, method, route (template), url, status, duration_ms,
 * and `err` for failures. Sets the X-Request-Id response header.
 */
export function requestLogging(logger: Logger): RequestHandler {
  return (req, res, next) => {
    const start = performance.now();
    const incoming = req.get('x-request-id');
    const requestId = incoming !== undefined && REQUEST_ID.test(incoming) ? incoming : randomUUID();
    res.setHeader('X-Request-Id', requestId);
    res.on('finish', () => {
      const status = res.statusCode;
      const line = {
        request_id: requestId,
        method: req.method,
        route: matchedRoute(req),
        url: req.originalUrl,
        status,
        duration_ms: Math.round((performance.now() - start) * 1000) / 1000,
        err: res.locals.err as unknown,
      };
      if (status >= 500) logger.error(line, 'request failed');
      else if (status >= 400) logger.warn(line, 'request completed');
      else logger.info(line, 'request completed');
    });
    next();
  };
}
