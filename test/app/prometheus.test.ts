// Nothing lost between the app and Prometheus: the REAL Prometheus (Debian's 2.42) scrapes the app every
// second while N requests go in concurrently; its sums must equal N exactly.
import * as http from 'node:http';
import { startPrometheus, type RunningPrometheus } from '../support/prometheus';
import { request, seeded, startApp, type RunningApp } from './helpers';

const N = 7000; // a multiple of PATHS.length
const PATHS = ['/', '/', '/', '/api/items/7', '/api/items/500', '/no/such/path', '/api/items?limit=5'];

describe('scraped by the real Prometheus', () => {
  let app: RunningApp;
  let prom: RunningPrometheus;
  beforeAll(async () => {
    // Some simulated errors too: every answer counts, whatever its status.
    app = await startApp({ latencyMs: 0, errorRate: 0.05, random: seeded(3) });
    prom = await startPrometheus({
      config: [
        'global: {scrape_interval: 1s, scrape_timeout: 1s}',
        'scrape_configs:',
        '- job_name: demo-app',
        `  static_configs: [{targets: ['127.0.0.1:${app.port}']}]`,
        '',
      ].join('\n'),
    });
  }, 60_000);
  afterAll(async () => {
    await prom?.stop();
    await app?.close();
  });

  const value = async (promql: string): Promise<number | undefined> => {
    const [sample] = await prom.query(promql);
    return sample === undefined ? undefined : Number(sample.value[1]);
  };

  test(`sum(my_app_requests_total) and the histogram's _count equal the ${N} requests sent`, async () => {
    await prom.waitFor(async () => (await value('up{job="demo-app"}')) === 1, 15_000, 'the app target to be up');

    const agent = new http.Agent({ keepAlive: true, maxSockets: 32 });
    const statuses = new Map<number, number>();
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < N) {
        const path = PATHS[next++ % PATHS.length];
        const { status } = await request(`${app.url}${path}`, { agent });
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
      }
    };
    await Promise.all(Array.from({ length: 32 }, worker));
    agent.destroy();
    expect([...statuses.values()].reduce((a, b) => a + b, 0)).toBe(N);
    expect([...statuses.keys()].sort()).toEqual([200, 404, 500]);

    // Wait for a scrape that saw every request, then demand exact equality (more would be wrong too).
    const counted = await prom.waitFor(async () => {
      const v = await value('sum(my_app_requests_total)');
      return v !== undefined && v >= N ? v : undefined;
    }, 15_000, `sum(my_app_requests_total) to reach ${N}`);
    expect(counted).toBe(N);
    expect(await value('sum(http_server_request_duration_seconds_count)')).toBe(N);
    expect(await value('sum(http_server_request_duration_seconds_bucket{le="+Inf"})')).toBe(N);
    expect(await value('sum(my_app_requests_total{status_code="500"})')).toBe(statuses.get(500));
    expect(await value('sum(my_app_requests_total{route="unmatched"})')).toBe(N / PATHS.length);

    const { activeTargets } = await prom.targets();
    expect(activeTargets.map((t) => [t.health, t.lastError])).toEqual([['up', '']]);
  });
});
