// Per-request instrumentation, in front of the Express app. Every request gets a request id and a
// timer; when its response finishes, a summary of it (AnsweredRequest) is queued, and the recorders
// (telemetry.ts's metrics, logger.ts's request log) get the queue once per event-loop turn. The request
// handlers know nothing about it.
//
// Two choices here are for speed, measured with `npm run bench` (instrumented/uninstrumented req/s):
// - It wraps the Express app's request listener instead of being an Express middleware: a middleware
//   is one more router layer on every request (0.86 -> 0.88).
// - The recorders run over a batch, once per event-loop turn, instead of from each response's 'finish'
//   callback (0.88 -> 0.92): the same work, run back to back, runs faster. Nothing is recorded late by
//   more than one turn, `flush()` records the queue on demand (before a scrape, before exiting), and the
//   durations are taken when each response finishes, not when it is recorded.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { Request } from 'express';
import { matchedRoute } from './route';

/** What the recorders learn about each answered request. */
export interface AnsweredRequest {
  /** The caller's X-Request-Id if it is safe to echo and to log, otherwise a new UUID. */
  readonly requestId: string;
  /** The method as received (the metrics map the non-standard ones to one value). */
  readonly method: string;
  /** The matched route template, e.g. `/api/items/:id`, or `unmatched` (route.ts). */
  readonly route: string;
  /** Path and query as received: for the log line, never for a label. */
  readonly url: string;
  readonly status: number;
  /** From the request's arrival to its response handed to the OS. */
  readonly seconds: number;
  /** The error a 5xx answer was for, if the error handler passed it to recordError(). */
  readonly err: unknown;
}

/** Records answered requests: telemetry.ts's metrics, logger.ts's request log. */
export type RequestRecorder = (request: AnsweredRequest) => void;

export interface InstrumentationOptions {
  readonly recorders: readonly RequestRecorder[];
  /** Route templates whose requests are not recorded (the probes and /metrics). @default none */
  readonly unrecordedRoutes?: ReadonlySet<string>;
  /**
   * Called when a recorder throws. The other recorders, and the rest of the batch, are recorded all the same.
   * @default a process warning for the first failure only (a broken recorder would otherwise flood stderr)
   */
  readonly onRecorderError?: (err: unknown) => void;
}

export interface Instrumentation {
  /** The request listener to serve (`http.createServer(listener)`): `app` behind the instrumentation. */
  wrap(app: RequestListener): RequestListener;
  /** Records the queued requests now rather than at the end of this event-loop turn. */
  flush(): void;
}

/** A caller's X-Request-Id is kept only if it is safe to echo and to log; otherwise a new one is made. */
const REQUEST_ID = /^[\w.:-]{1,128}$/;

const errors = new WeakMap<ServerResponse, unknown>();

/** Hands a handler's error to the request's record: its log line carries it, stack included. */
export function recordError(res: ServerResponse, err: unknown): void {
  errors.set(res, err);
}

export function instrumentRequests(options: InstrumentationOptions): Instrumentation {
  const { recorders } = options;
  const unrecorded = options.unrecordedRoutes ?? new Set<string>();
  let warned = false;
  const onRecorderError = options.onRecorderError ?? ((err: unknown) => {
    if (warned) return;
    warned = true;
    process.emitWarning(`a request recorder failed (reported once): ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
  });
  let queue: AnsweredRequest[] = [];
  let scheduled = false;

  const flush = (): void => {
    scheduled = false;
    const batch = queue;
    queue = [];
    for (const answered of batch) {
      for (const record of recorders) {
        // One failing recorder must not cost the others, or the rest of the batch, their requests.
        try {
          record(answered);
        } catch (err) {
          onRecorderError(err);
        }
      }
    }
  };

  const answered = (req: IncomingMessage, res: ServerResponse, requestId: string, start: number): void => {
    const route = matchedRoute(req as Request);
    if (unrecorded.has(route)) return;
    const status = res.statusCode;
    queue.push({
      requestId,
      method: req.method ?? '',
      route,
      url: (req as Request).originalUrl ?? req.url ?? '',
      status,
      seconds: (performance.now() - start) / 1000,
      err: status >= 500 ? errors.get(res) : undefined,
    });
    if (!scheduled) {
      scheduled = true;
      setImmediate(flush);
    }
  };

  return {
    wrap: (app) => (req, res) => {
      const start = performance.now();
      const incoming = req.headers['x-request-id'];
      const requestId = typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
      res.setHeader('X-Request-Id', requestId);
      // 'finish': the whole response was handed to the OS. A response the client abandoned first never
      // finishes and is not recorded (README: "What is counted").
      res.on('finish', () => answered(req, res, requestId, start));
      app(req, res);
    },
    flush,
  };
}
