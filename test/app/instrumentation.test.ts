// instrumentation.ts on its own, over real HTTP: a small Express app behind the middleware, its log lines
// captured. When requests are recorded (at 'finish', nothing queued), what is recorded, the request-scoped
// logger handlers get, and which requests are skipped. app.test.ts covers the demo app's own routes.
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import express from 'express';
import { Registry } from 'prom-client';
import { instrumentRequests } from '../../app/src/instrumentation';
import { createLogger } from '../../app/src/logger';
import { createTelemetry } from '../../app/src/telemetry';
import { parseSamples, request, total } from './helpers';

interface Served {
  url: string;
  lines: Array<Record<string, any>>;
  registry: Registry;
  close(): Promise<void>;
}

async function serve(setUp: (app: express.Express) => void, unrecordedRoutes?: ReadonlySet<string>): Promise<Served> {
  const lines: string[] = [];
  const logger = createLogger({ destination: { write: (line: string) => void lines.push(line) } });
  const registry = new Registry();
  const app = express();
  app.use(instrumentRequests({ telemetry: createTelemetry(registry), logger, unrecordedRoutes }));
  setUp(app);
  const server = http.createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    get lines() {
      return lines.map((l) => JSON.parse(l));
    },
    registry,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}

const requests = async (s: Served) => total(parseSamples(await s.registry.metrics()), 'my_app_requests_total');

test('a request is counted, timed and logged when its response finishes: nothing is queued, nothing needs flushing', async () => {
  const s = await serve((app) => app.get('/', (_req, res) => void res.send('hi')));
  try {
    await request(`${s.url}/`);
    // 'finish' comes in the turn the response is handed to the OS: by the next turn it is all there.
    await new Promise((resolve) => setImmediate(resolve));
    expect(await requests(s)).toBe(1);
    expect(s.lines.map((l) => [l.msg, l.route, l.status])).toEqual([['request completed', '/', 200]]);
  } finally {
    await s.close();
  }
});

test('the duration runs from the request\'s arrival to its response', async () => {
  const s = await serve((app) => app.get('/slow', async (_req, res) => {
    await sleep(50);
    res.send('done');
  }));
  try {
    await request(`${s.url}/slow`);
    await new Promise((resolve) => setImmediate(resolve));
    const [line] = s.lines;
    expect(line.duration_ms).toBeGreaterThanOrEqual(45);
    expect(line.duration_ms).toBeLessThan(1000);
    const sum = total(parseSamples(await s.registry.metrics()), 'http_server_request_duration_seconds_sum');
    expect(sum).toBeCloseTo(line.duration_ms / 1000, 2);
  } finally {
    await s.close();
  }
});

test('handlers log through req.log: their lines carry the request\'s id, the one echoed in X-Request-Id', async () => {
  const s = await serve((app) => app.get('/', (req, res) => {
    req.log.info({ items: 3 }, 'cart loaded');
    res.send('ok');
  }));
  try {
    const given = await request(`${s.url}/`, { headers: { 'X-Request-Id': 'abc-1.2:3_4' } });
    const made = await request(`${s.url}/`, { headers: { 'X-Request-Id': 'not safe' } });
    await new Promise((resolve) => setImmediate(resolve));
    expect(given.headers['x-request-id']).toBe('abc-1.2:3_4');
    expect(made.headers['x-request-id']).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const byId = (id: unknown) => s.lines.filter((l) => l.request_id === id).map((l) => l.msg);
    expect(byId('abc-1.2:3_4')).toEqual(['cart loaded', 'request completed']);
    expect(byId(made.headers['x-request-id'])).toEqual(['cart loaded', 'request completed']);
    expect(s.lines.find((l) => l.msg === 'cart loaded')!.items).toBe(3);
  } finally {
    await s.close();
  }
});

test('an error handler\'s res.locals.err reaches the line of a 5xx answer, stack included; a 4xx line carries none', async () => {
  const s = await serve((app) => {
    app.get('/fail', () => {
      throw new Error('boom');
    });
    app.get('/bad', (_req, res) => {
      res.locals.err = new Error('bad input');
      res.status(400).send('no');
    });
    app.use(((err, _req, res, _next) => {
      res.locals.err = err;
      res.status(500).send('failed');
    }) as express.ErrorRequestHandler);
  });
  try {
    await request(`${s.url}/fail`);
    await request(`${s.url}/bad`);
    await new Promise((resolve) => setImmediate(resolve));
    const [failed, bad] = s.lines;
    expect([failed.level, failed.msg, failed.status, failed.err.message]).toEqual(['error', 'request failed', 500, 'boom']);
    expect(failed.err.stack).toEqual(expect.stringContaining('Error: boom\n    at '));
    expect([bad.level, bad.status, bad.err]).toEqual(['warn', 400, undefined]);
  } finally {
    await s.close();
  }
});

test('requests to the unrecorded routes are neither counted nor logged; an unmatched path that looks like one is', async () => {
  const s = await serve((app) => {
    app.get('/healthz', (_req, res) => void res.send('ok'));
    app.get('/metrics', (_req, res) => void res.send(''));
  }, new Set(['/healthz', '/metrics']));
  try {
    for (const path of ['/healthz?verbose', '/metrics', '/metrics/extra']) await request(`${s.url}${path}`);
    await new Promise((resolve) => setImmediate(resolve));
    expect(s.lines.map((l) => [l.url, l.route, l.status])).toEqual([['/metrics/extra', 'unmatched', 404]]);
    expect(await requests(s)).toBe(1);
  } finally {
    await s.close();
  }
});

test('a response the client abandoned before it finished is neither counted nor logged', async () => {
  let answered = false;
  const s = await serve((app) => app.get('/slow', async (_req, res) => {
    await sleep(200);
    answered = true;
    res.send('too late');
  }));
  try {
    await new Promise<void>((resolve) => {
      const req = http.get(`${s.url}/slow`, { agent: false });
      req.on('error', () => resolve());
      setTimeout(() => {
        req.destroy();
        resolve();
      }, 50);
    });
    await sleep(300);
    expect(answered).toBe(true);
    expect(s.lines).toEqual([]);
    expect(await requests(s)).toBe(0);
  } finally {
    await s.close();
  }
});
