// The demo app over real HTTP: routes, headers, metrics and log lines.
import * as http from 'node:http';
import { Registry } from 'prom-client';
import { ITEMS } from '../../app/src/app';
import { OTEL_DURATION_BUCKETS } from '../../app/src/telemetry';
import { eventually, parseSamples, request, requestSeries, scrape, startApp, total, type RunningApp } from './helpers';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('routes', () => {
  let app: RunningApp;
  beforeAll(async () => {
    app = await startApp();
  });
  afterAll(() => app.close());

  test('GET / answers like the tutorial app', async () => {
    const res = await request(`${app.url}/`);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(res.body).toBe('Hello World!\n');
  });

  test('GET /api/items/:id returns the item, 404 for an unknown or malformed id', async () => {
    const found = await request(`${app.url}/api/items/42`);
    expect(found.status).toBe(200);
    expect(JSON.parse(found.body)).toEqual({ id: 42, name: 'item 42' });
    for (const id of ['0', '101', 'abc', '4.2']) {
      const missing = await request(`${app.url}/api/items/${id}`);
      expect([id, missing.status, JSON.parse(missing.body)]).toEqual([id, 404, { error: 'item not found' }]);
    }
  });

  test('GET /api/items lists items, 400 for a bad limit', async () => {
    const page = await request(`${app.url}/api/items?limit=3`);
    expect(page.status).toBe(200);
    expect(JSON.parse(page.body)).toEqual({ items: ITEMS.slice(0, 3) });
    expect(JSON.parse((await request(`${app.url}/api/items`)).body).items).toHaveLength(10);
    const bad = await request(`${app.url}/api/items?limit=0`);
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.body)).toEqual({ error: 'limit must be an integer from 1 to 100' });
  });

  test('an unknown path or method answers 404 JSON', async () => {
    for (const [method, path] of [['GET', '/nope'], ['POST', '/'], ['PROPFIND', '/api/items/1']]) {
      const res = await request(`${app.url}${path}`, { method });
      expect([method, path, res.status, JSON.parse(res.body)]).toEqual([method, path, 404, { error: 'not found' }]);
    }
  });

  test('a malformed URL answers 400', async () => {
    const res = await request(`${app.url}/api/items/%E0%A4%A`);
    expect(res.status).toBe(400);
  });

  test('/healthz and /readyz answer 200', async () => {
    expect(await request(`${app.url}/healthz`)).toMatchObject({ status: 200, body: 'ok\n' });
    expect(await request(`${app.url}/readyz`)).toMatchObject({ status: 200, body: 'ready\n' });
  });

  test('X-Request-Id is echoed when given, generated (a UUID) otherwise', async () => {
    const given = await request(`${app.url}/`, { headers: { 'X-Request-Id': 'req-123.abc:def_4' } });
    expect(given.headers['x-request-id']).toBe('req-123.abc:def_4');
    const generated = await request(`${app.url}/`);
    expect(generated.headers['x-request-id']).toMatch(UUID);
    const other = await request(`${app.url}/`);
    expect(other.headers['x-request-id']).not.toBe(generated.headers['x-request-id']);
  });

  test('an X-Request-Id unsafe to log or echo is replaced', async () => {
    for (const id of ['has spaces', 'x'.repeat(129), '{"json":1}']) {
      const res = await request(`${app.url}/`, { headers: { 'X-Request-Id': id } });
      expect(res.headers['x-request-id']).toMatch(UUID);
    }
  });

  test("/metrics answers with exactly prom-client's content type", async () => {
    const res = await request(`${app.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe(app.demo.registry.contentType);
    expect(res.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
  });

  test('/metrics has the default process and runtime metrics', async () => {
    const names = new Set((await scrape(app)).map((s) => s.name));
    for (const name of ['process_cpu_seconds_total', 'process_resident_memory_bytes', 'process_start_time_seconds', 'nodejs_eventloop_lag_seconds', 'nodejs_heap_size_used_bytes', 'nodejs_version_info']) {
      expect([name, names.has(name)]).toEqual([name, true]);
    }
  });
});

describe('metrics', () => {
  let app: RunningApp;
  beforeEach(async () => {
    app = await startApp();
  });
  afterEach(() => app.close());

  test('the histogram has the OpenTelemetry advisory buckets and method/route/status_code labels', async () => {
    await request(`${app.url}/`);
    const buckets = (await scrape(app)).filter((s) => s.name === 'http_server_request_duration_seconds_bucket');
    expect(buckets.map((s) => s.labels.le)).toEqual([...OTEL_DURATION_BUCKETS.map(String), '+Inf']);
    expect(buckets[0].labels).toEqual({ le: '0.005', method: 'GET', route: '/', status_code: '200' });
  });

  test('/api/items/42 and /api/items/43 make one series with route /api/items/:id', async () => {
    await request(`${app.url}/api/items/42`);
    await request(`${app.url}/api/items/43`);
    const samples = await scrape(app);
    const counters = samples.filter((s) => s.name === 'my_app_requests_total');
    expect(counters).toEqual([{ name: 'my_app_requests_total', labels: { method: 'GET', route: '/api/items/:id', status_code: '200' }, value: 2 }]);
    const counts = samples.filter((s) => s.name === 'http_server_request_duration_seconds_count');
    expect(counts).toEqual([{ name: 'http_server_request_duration_seconds_count', labels: { method: 'GET', route: '/api/items/:id', status_code: '200' }, value: 2 }]);
  });

  test('unknown paths count as route "unmatched"; non-standard methods as _OTHER', async () => {
    await request(`${app.url}/no/such/path`);
    await request(`${app.url}/api/items/1`, { method: 'PURGE' });
    await request(`${app.url}/api/items/%E0%A4%A`);
    const counters = (await scrape(app)).filter((s) => s.name === 'my_app_requests_total');
    expect(counters.map((s) => s.labels)).toEqual(
      expect.arrayContaining([
        { method: 'GET', route: 'unmatched', status_code: '404' },
        { method: '_OTHER', route: 'unmatched', status_code: '404' },
        { method: 'GET', route: 'unmatched', status_code: '400' },
      ]),
    );
    expect(counters).toHaveLength(3);
  });

  test('a 404 from a matched route keeps the route template', async () => {
    await request(`${app.url}/api/items/999`);
    expect(total(await scrape(app), 'my_app_requests_total', { route: '/api/items/:id', status_code: '404' })).toBe(1);
  });

  test('/metrics and the probes are not counted; every other request is, errors included', async () => {
    for (let i = 0; i < 3; i++) {
      await request(`${app.url}/metrics`);
      await request(`${app.url}/healthz`);
      await request(`${app.url}/readyz`);
    }
    await request(`${app.url}/`);
    await request(`${app.url}/nope`);
    const samples = await scrape(app);
    expect(total(samples, 'my_app_requests_total')).toBe(2);
    expect(total(samples, 'http_server_request_duration_seconds_count')).toBe(2);
    expect(requestSeries(samples).filter((s) => /metrics|healthz|readyz/.test(s.labels.route ?? ''))).toEqual([]);
  });

  test('the histogram records the simulated latency in seconds', async () => {
    await app.close();
    app = await startApp({ latencyMs: 100, random: () => 0.5 }); // waits 100 ms * (0.5 + 0.5)
    await request(`${app.url}/`);
    const samples = await scrape(app);
    const bucket = (le: string) => total(samples, 'http_server_request_duration_seconds_bucket', { le });
    expect([bucket('0.075'), bucket('0.25')]).toEqual([0, 1]);
    expect(total(samples, 'http_server_request_duration_seconds_sum')).toBeGreaterThanOrEqual(0.099);
  });

  test('each app has its own registry, so several apps live in one process', async () => {
    const other = await startApp();
    try {
      await request(`${other.url}/`);
      expect(other.demo.registry).not.toBe(app.demo.registry);
      expect(total(await scrape(other), 'my_app_requests_total')).toBe(1);
      expect(total(await scrape(app), 'my_app_requests_total')).toBe(0);
    } finally {
      await other.close();
    }
  });
});

describe('simulated errors', () => {
  let app: RunningApp;
  beforeAll(async () => {
    app = await startApp({ errorRate: 1 });
  });
  afterAll(() => app.close());

  test('a failing request answers 500, is counted under its route and logged with its stack', async () => {
    const res = await request(`${app.url}/api/items/7`, { headers: { 'X-Request-Id': 'failing-1' } });
    expect(res.status).toBe(500);
    expect(JSON.parse(res.body)).toEqual({ error: 'internal server error' });
    expect(total(await scrape(app), 'my_app_requests_total', { method: 'GET', route: '/api/items/:id', status_code: '500' })).toBe(1);

    await eventually(() => app.logs().some((l) => l.request_id === 'failing-1'), 'the log line');
    const line = app.logs().find((l) => l.request_id === 'failing-1')!;
    expect(line).toMatchObject({ level: 'error', msg: 'request failed', status: 500, route: '/api/items/:id' });
    const err = line.err as Record<string, unknown>;
    expect(err.type).toBe('Error');
    expect(err.message).toBe('simulated failure (APP_ERROR_RATE)');
    expect(err.stack).toEqual(expect.stringContaining('Error: simulated failure (APP_ERROR_RATE)\n    at '));
  });

  test('the probes and /metrics never fail', async () => {
    expect((await request(`${app.url}/healthz`)).status).toBe(200);
    expect((await request(`${app.url}/readyz`)).status).toBe(200);
    expect((await request(`${app.url}/metrics`)).status).toBe(200);
  });
});

describe('request log lines', () => {
  let app: RunningApp;
  beforeEach(async () => {
    app = await startApp();
  });
  afterEach(() => app.close());

  test('one JSON line per request: keys, types, string level, epoch-millisecond time', async () => {
    const res = await request(`${app.url}/api/items/42?verbose=1`, { headers: { 'X-Request-Id': 'abc-1' } });
    await eventually(() => app.logs().length === 1, 'one log line');
    const [line] = app.logs();
    expect(Object.keys(line).sort()).toEqual(['duration_ms', 'level', 'method', 'msg', 'request_id', 'route', 'status', 'time', 'url']);
    expect(line).toEqual({
      level: 'info',
      time: expect.any(Number),
      msg: 'request completed',
      request_id: 'abc-1',
      method: 'GET',
      route: '/api/items/:id',
      url: '/api/items/42?verbose=1',
      status: 200,
      duration_ms: expect.any(Number),
    });
    expect(Number.isInteger(line.time)).toBe(true);
    expect(Math.abs((line.time as number) - Date.now())).toBeLessThan(60_000);
    expect(line.duration_ms).toBeGreaterThanOrEqual(0);
    expect(res.headers['x-request-id']).toBe('abc-1');
  });

  test('the generated request id is the one in the response header', async () => {
    const res = await request(`${app.url}/`);
    await eventually(() => app.logs().length === 1, 'one log line');
    expect(app.logs()[0].request_id).toBe(res.headers['x-request-id']);
  });

  test('4xx lines are warnings with route "unmatched" for unknown paths, and no err', async () => {
    await request(`${app.url}/nope`);
    await eventually(() => app.logs().length === 1, 'one log line');
    expect(app.logs()[0]).toMatchObject({ level: 'warn', route: 'unmatched', status: 404, url: '/nope' });
    expect(app.logs()[0]).not.toHaveProperty('err');
  });

  test('no lines for /metrics, /healthz and /readyz', async () => {
    await request(`${app.url}/metrics`);
    await request(`${app.url}/healthz`);
    await request(`${app.url}/readyz`);
    await request(`${app.url}/`); // written last, so the lines before it would be there by now
    await eventually(() => app.logs().length >= 1, 'a log line');
    expect(app.logs().map((l) => l.url)).toEqual(['/']);
  });
});

describe('shutdown state', () => {
  test('after beginShutdown /readyz answers 503, /healthz 200, and every response says Connection: close', async () => {
    const app = await startApp();
    const agent = new http.Agent({ keepAlive: true }); // asks for keep-alive on each request
    try {
      expect((await request(`${app.url}/`, { agent })).headers.connection).toBe('keep-alive');
      app.demo.beginShutdown();
      const ready = await request(`${app.url}/readyz`, { agent });
      expect([ready.status, ready.body, ready.headers.connection]).toEqual([503, 'shutting down\n', 'close']);
      const live = await request(`${app.url}/healthz`, { agent });
      expect([live.status, live.headers.connection]).toEqual([200, 'close']);
      const hello = await request(`${app.url}/`, { agent });
      expect([hello.status, hello.headers.connection]).toEqual([200, 'close']);
    } finally {
      agent.destroy();
      await app.close();
    }
  });
});

describe('without instrumentation (the benchmark baseline)', () => {
  test('same handlers; no /metrics, no metrics, no log lines, no request id', async () => {
    const app = await startApp({ instrumented: false });
    try {
      const res = await request(`${app.url}/api/items/42`);
      expect([res.status, JSON.parse(res.body)]).toEqual([200, { id: 42, name: 'item 42' }]);
      expect(res.headers['x-request-id']).toBeUndefined();
      expect((await request(`${app.url}/metrics`)).status).toBe(404);
      expect(await app.demo.registry.getMetricsAsJSON()).toEqual([]);
      expect(app.logs()).toEqual([]);
    } finally {
      await app.close();
    }
  });
});

test('parseSamples reads labels with escaped quotes', () => {
  const registry = new Registry();
  expect(parseSamples('# HELP x y\nx{a="1",b="q\\"r"} 2\ny 3\n')).toEqual([
    { name: 'x', labels: { a: '1', b: 'q\\"r' }, value: 2 },
    { name: 'y', labels: {}, value: 3 },
  ]);
  expect(registry.contentType).toBe('text/plain; version=0.0.4; charset=utf-8');
});
