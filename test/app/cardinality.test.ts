// No request can create new series: 10,000 requests with random paths and random methods (standard,
// non-standard and made-up) leave the set of exposed series as the first few requests left it.
import * as http from 'node:http';
import { request, requestSeries, scrape, seeded, startApp, total, type MetricSample, type RunningApp } from './helpers';

const STANDARD = ['DELETE', 'GET', 'HEAD', 'OPTIONS', 'PATCH', 'POST', 'PUT', 'TRACE'];
// Methods Node's HTTP parser accepts beyond those (WebDAV, PURGE, …): they reach the app as `_OTHER`.
// CONNECT is left out: it opens a tunnel, it is not a request to the app.
const NON_STANDARD = http.METHODS.filter((m) => !STANDARD.includes(m) && m !== 'CONNECT');
const PROBES_AND_METRICS = ['/healthz', '/readyz', '/metrics'];

type Random = () => number;
const token = (random: Random, length = 8): string =>
  Array.from({ length }, () => 'abcdefghijklmnopqrstuvwxyz0123456789'[Math.floor(random() * 36)]).join('');
const int = (random: Random, max: number): number => 1 + Math.floor(random() * max);

/** Kinds of paths, each answered the same way whatever its random part. */
const PATH_KINDS: Array<(random: Random) => string> = [
  () => '/',
  (random) => `/api/items/${int(random, 100)}`, // an item
  (random) => `/api/items/${100 + int(random, 1e9)}`, // no such item: 404 on a matched route
  (random) => `/api/items/${token(random)}`, // malformed id: 404 on a matched route
  (random) => `/api/items?limit=${int(random, 100)}&q=${token(random)}`, // a listing, random query
  (random) => `/api/items?limit=${token(random)}`, // bad limit: 400
  (random) => `/${token(random)}/${token(random)}?${token(random)}=${token(random)}`, // unknown path
  (random) => `/api/items/${int(random, 100)}/${token(random)}`, // unknown sub-path
  (random) => `/${token(random)}%E0%A4%A`, // malformed percent-encoding: 400
  (random) => PROBES_AND_METRICS[Math.floor(random() * 3)], // not counted for GET/HEAD; 404 otherwise
  (random) => `/metrics/${token(random)}`,
];

/** A made-up method token; Node's server rejects it with a 400 before the app sees it. */
const madeUpMethod = (random: Random): string => `X${token(random, 6).toUpperCase().replace(/[0-9]/g, 'Q')}`;

describe('label cardinality', () => {
  let app: RunningApp;
  const agent = new http.Agent({ keepAlive: true, maxSockets: 32 });
  beforeAll(async () => {
    app = await startApp();
  });
  afterAll(async () => {
    agent.destroy();
    await app.close();
  });

  /** Sends `requests` with bounded concurrency; returns how many the app itself answered (and counts). */
  async function send(requests: Array<{ method: string; path: string }>): Promise<number> {
    let next = 0;
    let counted = 0;
    const worker = async (): Promise<void> => {
      while (next < requests.length) {
        const { method, path } = requests[next++];
        const res = await request(`${app.url}${path}`, { method, agent });
        const reachesApp = http.METHODS.includes(method);
        const uncounted = (method === 'GET' || method === 'HEAD') && PROBES_AND_METRICS.includes(path);
        if (reachesApp && !uncounted) counted++;
        if (!reachesApp) expect(res.status).toBe(400);
      }
    };
    await Promise.all(Array.from({ length: 32 }, worker));
    return counted;
  }

  const seriesKeys = (samples: MetricSample[]): string[] =>
    requestSeries(samples)
      .map((s) => `${s.name}${JSON.stringify(s.labels)}`)
      .sort();

  test('10,000 requests with random paths and methods add no series after the first few', async () => {
    const random = seeded(12345);

    // The first few: every kind of method on every kind of path, once.
    const firstFew = [...STANDARD, ...NON_STANDARD, madeUpMethod(random)].flatMap((method) => PATH_KINDS.map((kind) => ({ method, path: kind(random) })));
    let counted = await send(firstFew);
    const before = seriesKeys(await scrape(app));

    const methods = [...STANDARD, ...NON_STANDARD];
    const randomRequests = Array.from({ length: 10_000 }, () => ({
      method: random() < 0.1 ? madeUpMethod(random) : methods[Math.floor(random() * methods.length)],
      path: PATH_KINDS[Math.floor(random() * PATH_KINDS.length)](random),
    }));
    counted += await send(randomRequests);
    const samples = await scrape(app);

    expect(seriesKeys(samples)).toEqual(before);
    expect(before.length).toBeGreaterThan(0);
    expect(before.length).toBeLessThan(1000);

    // Only bounded values appear, and every request the app answered was counted.
    const series = requestSeries(samples);
    expect(new Set(series.map((s) => s.labels.route))).toEqual(new Set(['/', '/api/items', '/api/items/:id', 'unmatched']));
    expect(new Set(series.map((s) => s.labels.method))).toEqual(new Set([...STANDARD, '_OTHER']));
    expect(total(samples, 'my_app_requests_total')).toBe(counted);
    expect(total(samples, 'http_server_request_duration_seconds_count')).toBe(counted);
  });
});
