import { createLogger } from '../../app/src/logger';
import type { AddressInfo } from 'node:net';
import { pickRequest, serveHealth, startTraffic } from '../../app/src/traffic';
import { eventually, scrape, seeded, startApp, total } from './helpers';

describe('pickRequest', () => {
  test('the mix: mostly /, item lookups with random ids, some listings and unknown paths', () => {
    const random = seeded(42);
    const kinds = { hello: 0, lookup: 0, list: 0, unknown: 0 };
    const ids = new Set<number>();
    const methods = new Set<string>();
    const n = 20_000;
    for (let i = 0; i < n; i++) {
      const { method, path } = pickRequest(random);
      methods.add(method);
      const lookup = /^\/api\/items\/(\d+)$/.exec(path);
      if (path === '/') kinds.hello++;
      else if (lookup) {
        kinds.lookup++;
        ids.add(Number(lookup[1]));
      } else if (/^\/api\/items\?limit=\d+$/.test(path)) kinds.list++;
      else kinds.unknown++;
    }
    expect([...methods]).toEqual(['GET']);
    expect(kinds.hello / n).toBeCloseTo(0.6, 1);
    expect(kinds.lookup / n).toBeCloseTo(0.25, 1);
    expect(kinds.list / n).toBeCloseTo(0.07, 1);
    expect(kinds.unknown / n).toBeCloseTo(0.08, 1);
    // Ids run past the catalogue's 100, so some lookups are 404s.
    expect(Math.min(...ids)).toBe(1);
    expect(Math.max(...ids)).toBe(120);
  });

  test('the ends of the random range', () => {
    expect(pickRequest(() => 0)).toEqual({ method: 'GET', path: '/' });
    expect(pickRequest(() => 0.999999).path).toBe('/api/items/1/reviews');
  });
});

describe('startTraffic', () => {
  test('sends the mix at the rate, logs summaries, and every request it sent is counted by the app', async () => {
    const app = await startApp({ errorRate: 0.1, random: seeded(1) });
    const lines: string[] = [];
    const logger = createLogger({ destination: { write: (line: string) => void lines.push(line) } });
    const run = startTraffic(
      { targetUrl: app.url, rps: 200, concurrency: 8, summaryIntervalMs: 200, timeoutMs: 2000, logLevel: 'info' },
      logger,
      seeded(2),
    );
    let totals;
    try {
      try {
        await eventually(() => run.totals().sent >= 100, '100 requests sent', 5000);
      } finally {
        await run.stop();
      }
      totals = run.totals();
      expect(total(await scrape(app), 'my_app_requests_total')).toBe(totals.sent);
    } finally {
      await app.close(); // also when an assertion fails, so Jest does not hang on the open server
    }
    expect(totals.failed).toBe(0);
    expect(totals.sent).toBe(totals.ok + totals.client_errors + totals.server_errors);
    expect(totals.client_errors).toBeGreaterThan(0); // unknown paths and missing items
    expect(totals.server_errors).toBeGreaterThan(0); // the app's error rate

    const logged = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    const summary = logged.find((l) => l.msg === 'traffic summary');
    expect(summary).toEqual({
      level: 'info',
      time: expect.any(Number),
      msg: 'traffic summary',
      sent: expect.any(Number),
      ok: expect.any(Number),
      client_errors: expect.any(Number),
      server_errors: expect.any(Number),
      failed: expect.any(Number),
      skipped: expect.any(Number),
      in_flight: expect.any(Number),
      interval_ms: 200,
    });
    expect(logged.at(-1)).toMatchObject({ msg: 'traffic stopped', ...totals });
  });

  test('an unreachable target counts as failed, with the reason in the summary', async () => {
    const app = await startApp();
    const url = app.url;
    await app.close(); // nothing listens there any more
    const lines: string[] = [];
    const logger = createLogger({ destination: { write: (line: string) => void lines.push(line) } });
    const run = startTraffic({ targetUrl: url, rps: 100, concurrency: 4, summaryIntervalMs: 100, timeoutMs: 1000, logLevel: 'info' }, logger);
    try {
      await eventually(() => lines.some((l) => l.includes('"traffic summary"') && l.includes('ECONNREFUSED')), 'a summary with the error', 5000);
    } finally {
      await run.stop();
    }
    const totals = run.totals();
    expect(totals.failed).toBe(totals.sent);
    expect(totals.sent).toBeGreaterThan(0);
  });
});

describe('serveHealth', () => {
  test('answers /healthz 200 while running and 503 once stopping, 404 elsewhere', async () => {
    let running = true;
    const server = await serveHealth(0, () => running, '127.0.0.1');
    const port = (server.address() as AddressInfo).port;
    try {
      const get = async (path: string) => (await fetch(`http://127.0.0.1:${port}${path}`)).status;
      expect(await get('/healthz')).toBe(200);
      expect(await get('/metrics')).toBe(404);
      running = false;
      expect(await get('/healthz')).toBe(503);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
