// The demo app: the tutorial's "Hello World!" service plus a small item API. The handlers below
// know nothing about metrics or the request log: instrumentation.ts, the first middleware, records every
// answered request with telemetry.ts (metrics) and logger.ts (its log line), and gives handlers `req.log`.
import type { RequestListener } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import express, { type ErrorRequestHandler, type Express, type RequestHandler } from 'express';
import { Registry } from 'prom-client';
import { instrumentRequests } from './instrumentation';
import { createLogger, type Logger } from './logger';
import { createTelemetry } from './telemetry';

export interface AppOptions {
  /** Mean simulated work on `/` and `/api/items…` in ms; each request waits 0.5–1.5 times this. @default 0 */
  readonly latencyMs?: number;
  /** Share of those requests that fail with a 500 after the work, from 0 to 1. @default 0 (the server passes APP_ERROR_RATE, default 0.05) */
  readonly errorRate?: number;
  /** Request log destination. @default a JSON logger on stdout */
  readonly logger?: Logger;
  /** false serves the same routes with no instrumentation: no request id, no metrics, no /metrics, no request logs (the benchmark's baseline). @default true */
  readonly instrumented?: boolean;
  /** Each request's id as an exemplar of its duration (telemetry.ts). @default true */
  readonly exemplars?: boolean;
  /** Random source for the simulated latency and errors. @default Math.random */
  readonly random?: () => number;
}

export interface DemoApp {
  /** What to serve: `http.createServer(demo.listener)`: the Express app, its instrumentation included. */
  readonly listener: RequestListener;
  /** The Express app itself. */
  readonly app: Express;
  /** This app's metrics (empty when not instrumented). */
  readonly registry: Registry;
  /** Starts the shutdown: /readyz answers 503 and every response from now on carries `Connection: close`. */
  beginShutdown(): void;
}

export interface Item {
  readonly id: number;
  readonly name: string;
}

/** The routes whose requests are neither counted nor logged: the probes and the scrapes. */
export const OPERATIONAL_ROUTES: ReadonlySet<string> = new Set(['/healthz', '/readyz', '/metrics']);

/** The catalogue: ids 1 to 100. */
export const ITEMS: readonly Item[] = Array.from({ length: 100 }, (_, i) => ({ id: i + 1, name: `item ${i + 1}` }));

export function createApp(options: AppOptions = {}): DemoApp {
  const latencyMs = options.latencyMs ?? 0;
  const errorRate = options.errorRate ?? 0;
  const random = options.random ?? Math.random;
  const instrumented = options.instrumented ?? true;

  let shuttingDown = false;
  const app = express();
  app.disable('x-powered-by');

  const registry = new Registry();
  const telemetry = instrumented ? createTelemetry(registry, { exemplars: options.exemplars ?? true }) : undefined;
  if (telemetry) {
    // First, so that every request is timed from its arrival and every handler has req.log.
    app.use(instrumentRequests({ telemetry, logger: options.logger ?? createLogger(), unrecordedRoutes: OPERATIONAL_ROUTES }));
  }

  // Once shutdown starts, keep-alive clients reconnect (to another pod) instead of reusing this one.
  app.use((_req, res, next) => {
    if (shuttingDown) res.setHeader('Connection', 'close');
    next();
  });

  // Operational endpoints: neither counted nor logged (OPERATIONAL_ROUTES), so probes and scrapes don't
  // drown the app's own traffic.
  app.get('/healthz', (_req, res) => {
    res.type('text').send('ok\n');
  });
  app.get('/readyz', (_req, res) => {
    res.status(shuttingDown ? 503 : 200).type('text').send(shuttingDown ? 'shutting down\n' : 'ready\n');
  });

  if (telemetry) app.get('/metrics', telemetry.metricsEndpoint);

  async function simulateWork(): Promise<void> {
    if (latencyMs > 0) await sleep(latencyMs * (0.5 + random()));
    if (errorRate > 0 && random() < errorRate) throw new Error('simulated failure (APP_ERROR_RATE)');
  }

  const hello: RequestHandler = async (_req, res) => {
    await simulateWork();
    res.type('text').send('Hello World!\n');
  };

  const listItems: RequestHandler = async (req, res) => {
    const limit = req.query.limit === undefined ? 10 : Number(req.query.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > ITEMS.length) {
      res.status(400).json({ error: `limit must be an integer from 1 to ${ITEMS.length}` });
      return;
    }
    await simulateWork();
    res.json({ items: ITEMS.slice(0, limit) });
  };

  const getItem: RequestHandler<{ id: string }> = async (req, res) => {
    await simulateWork();
    const item = /^\d+$/.test(req.params.id) ? ITEMS[Number(req.params.id) - 1] : undefined;
    if (item === undefined) {
      res.status(404).json({ error: 'item not found' });
      return;
    }
    res.json(item);
  };

  app.get('/', hello);
  app.get('/api/items', listItems);
  app.get('/api/items/:id', getItem);

  app.use((_req, res) => {
    res.status(404).json({ error: 'not found' });
  });

  const onError: ErrorRequestHandler = (err, _req, res, next) => {
    if (res.headersSent) {
      next(err);
      return;
    }
    // Errors Express raises itself for bad input (e.g. a malformed URL) carry a 4xx status.
    const status: unknown = (err as { status?: unknown }).status;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      res.status(status).json({ error: (err as Error).message });
      return;
    }
    res.locals.err = err; // the request's log line carries it, stack included
    res.status(500).json({ error: 'internal server error' });
  };
  app.use(onError);

  return {
    listener: app,
    app,
    registry,
    beginShutdown: () => {
      shuttingDown = true;
    },
  };
}
