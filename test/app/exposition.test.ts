// /metrics in two formats: the Prometheus text format by default, OpenMetrics (with each request's id as an
// exemplar of its duration) for the scrapers that ask for it first.
import { prefersOpenMetrics, MAX_EXEMPLAR_REQUEST_ID_LENGTH } from '../../app/src/telemetry';
import { request, startApp, type RunningApp } from './helpers';

/** The Accept headers scrapers send, from their sources. */
const ACCEPT = {
  // prometheus/prometheus@v2.42.0 scrape/scrape.go, acceptHeader.
  prometheus2: 'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1',
  // prometheus/prometheus@v3.14.0 scrape/scrape.go acceptHeader over config.DefaultScrapeProtocols (escaping added to the 1.0.0 formats).
  prometheus3: 'application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.6,application/openmetrics-text;version=0.0.1;q=0.5,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2',
  textOnly: 'text/plain;version=0.0.4',
  curl: '*/*',
  browser: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8',
};
const OPENMETRICS_TYPE = 'application/openmetrics-text; version=1.0.0; charset=utf-8';
const TEXT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

describe('format negotiation', () => {
  test.each([
    ['Prometheus 2', true, ACCEPT.prometheus2],
    ['Prometheus 3 (escaping parameter)', true, ACCEPT.prometheus3],
    ['text only', false, ACCEPT.textOnly],
    ['curl', false, ACCEPT.curl],
    ['a browser', false, ACCEPT.browser],
  ])('%s gets OpenMetrics: %s', async (_who, openMetrics, accept) => {
    const app = await startApp();
    try {
      const res = await request(`${app.url}/metrics`, { headers: { Accept: accept } });
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toBe(openMetrics ? OPENMETRICS_TYPE : TEXT_TYPE);
      expect(res.headers.vary).toBe('Accept');
      expect(res.body.endsWith('# EOF\n')).toBe(openMetrics);
    } finally {
      await app.close();
    }
  });

  test('no Accept header gets the text format', async () => {
    const app = await startApp();
    try {
      expect((await request(`${app.url}/metrics`)).headers['content-type']).toBe(TEXT_TYPE);
    } finally {
      await app.close();
    }
  });

  test.each([
    [['application/openmetrics-text', 'text/plain'], true],
    [['text/plain', 'application/openmetrics-text'], false],
    [['*/*', 'application/openmetrics-text'], false],
    [['text/html', 'application/openmetrics-text'], true],
    [['application/json'], false],
    [[], false],
  ])('preferred order %j: OpenMetrics %s', (accepted, expected) => {
    expect(prefersOpenMetrics(accepted)).toBe(expected);
  });
});

describe('exemplars', () => {
  let app: RunningApp;
  beforeEach(async () => {
    app = await startApp();
  });
  afterEach(async () => {
    await app.close();
  });
  const scrape = async (accept: string) => (await request(`${app.url}/metrics`, { headers: { Accept: accept } })).body;

  test('each bucket carries the latest request\'s id, in OpenMetrics only', async () => {
    const res = await request(`${app.url}/`, { headers: { 'X-Request-Id': 'slow-one' } });
    expect(res.status).toBe(200);
    const openMetrics = await scrape(ACCEPT.prometheus3);
    const buckets = openMetrics.split('\n').filter((l) => l.startsWith('http_server_request_duration_seconds_bucket{') && l.includes(' # {'));
    expect(buckets).toHaveLength(1);
    expect(buckets[0]).toMatch(/^http_server_request_duration_seconds_bucket\{le="[^"]+",method="GET",route="\/",status_code="200"\} 1 # \{request_id="slow-one"\} [0-9.e-]+ \d+\.\d+$/);
    expect(await scrape(ACCEPT.textOnly)).not.toContain('request_id');
  });

  test('after an OpenMetrics scrape the text format still names counters with _total', async () => {
    // prom-client 15.1.3 renames a counter in place when it writes OpenMetrics (prometheus/client_js#829).
    await request(`${app.url}/`);
    const openMetrics = await scrape(ACCEPT.prometheus2);
    expect(openMetrics).toContain('# TYPE my_app_requests counter\n');
    expect(openMetrics).toContain('\nmy_app_requests_total{method="GET",route="/",status_code="200"} 1\n');
    const text = await scrape(ACCEPT.textOnly);
    expect(text).toContain('# TYPE my_app_requests_total counter\n');
    expect(text).toContain('\nmy_app_requests_total{method="GET",route="/",status_code="200"} 1\n');
    expect(text).toContain('# TYPE process_cpu_seconds_total counter\n');
    await request(`${app.url}/`);
    expect(await scrape(ACCEPT.prometheus2)).toContain('\nmy_app_requests_total{method="GET",route="/",status_code="200"} 2\n');
  });

  test(`a caller's id fits an exemplar: ${MAX_EXEMPLAR_REQUEST_ID_LENGTH} characters are kept, one more is replaced`, async () => {
    const longest = 'a'.repeat(MAX_EXEMPLAR_REQUEST_ID_LENGTH);
    expect((await request(`${app.url}/`, { headers: { 'X-Request-Id': longest } })).headers['x-request-id']).toBe(longest);
    expect(await scrape(ACCEPT.prometheus3)).toContain(`# {request_id="${longest}"}`);
    const tooLong = (await request(`${app.url}/`, { headers: { 'X-Request-Id': `${longest}a` } })).headers['x-request-id'];
    expect(tooLong).toMatch(/^[0-9a-f-]{36}$/);
    expect(app.logs().map((l) => l.request_id)).toEqual([longest, tooLong]);
  });

  test('exemplars off: OpenMetrics without them', async () => {
    const plain = await startApp({ exemplars: false });
    try {
      await request(`${plain.url}/`);
      const body = (await request(`${plain.url}/metrics`, { headers: { Accept: ACCEPT.prometheus3 } })).body;
      expect(body).toContain('http_server_request_duration_seconds_count{method="GET",route="/",status_code="200"} 1');
      expect(body).not.toContain(' # {');
    } finally {
      await plain.close();
    }
  });
});
