/**
 * From a slow request on the latency graph to its log line, with what runs here: the REAL demo app (its server,
 * spawned as in the image, its stdout captured) under load, scraped by the REAL Prometheus (Debian's 2.42) with
 * the synthesized prometheus.yml and the synthesized Deployment's feature flag (kubernetes_sd swapped for
 * file_sd with discovery's labels; the interval shortened to 1 s). Then Grafana's exemplar link from the
 * synthesized data source, filled in as Grafana fills it, parsed with Grafana's own LogQL grammar
 * (@grafana/lezer-logql), and run over the captured lines as Loki would run it. Grafana and Loki themselves do
 * not run here.
 */
import * as http from 'node:http';
import { parser as logqlParser } from '@grafana/lezer-logql';
import { parse, stringify } from 'yaml';
import { EXEMPLAR_LABEL } from '../app/src/telemetry';
import { parseStackConfig, type StackInput } from '../lib';
import { COMPOSE_FILES } from '../lib/compose/config-files';
import { renderCompose } from '../lib/compose/render-compose';
import { REQUEST_ID_EXEMPLAR_LABEL } from '../lib/render/grafana-provisioning';
import { startServerProcess, type ServerProcess } from './app/helpers';
import { find, synthObjects } from './helpers/stack';
import { deploymentPodTargets } from './support/pod-targets';
import { startPrometheus, withFileSd, type RunningPrometheus } from './support/prometheus';

const DURATION_BUCKET = 'http_server_request_duration_seconds_bucket';
/** The label contract: every series and log stream of a workload carries these. */
const CONTRACT = ['namespace', 'pod', 'container', 'app', 'node'];

interface Exemplar {
  readonly labels: Record<string, string>;
  readonly value: string;
  readonly timestamp: number;
}
interface SeriesExemplars {
  readonly seriesLabels: Record<string, string>;
  readonly exemplars: Exemplar[];
}
type LogLine = Record<string, unknown> & { request_id?: string; msg?: string };

/** Sends `n` requests over keep-alive connections, `concurrency` at a time; a few carry the caller's id. */
async function load(url: string, n: number, concurrency: number): Promise<void> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const paths = ['/', '/', '/api/items/7', '/api/items?limit=5', '/no/such/path'];
  let next = 0;
  const worker = async () => {
    while (next < n) {
      const i = next++;
      await new Promise<void>((resolve, reject) => {
        const headers = i % 50 === 0 ? { 'X-Request-Id': `caller-${i}` } : {};
        http.get(`${url}${paths[i % paths.length]}`, { agent, headers }, (res) => res.resume().on('end', resolve)).on('error', reject);
      });
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  agent.destroy();
}

/**
 * Grafana's encoding of a value it puts in a link's URL (the UriEncode format: grafana/scenes
 * packages/scenes/src/variables/interpolation/formatRegistry.ts, encodeURIStrict): encodeURI plus `!'()*`.
 */
const uriEncode = (value: string) => encodeURI(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/** The link's URL as Grafana opens it for one exemplar: provisioning's `$$` undone, then every variable filled in. */
function fillLink(provisioned: string, exemplar: Record<string, string>, from: number, to: number): string {
  // Provisioning expands $VAR and ${VAR} from the environment and turns $$ into $: a lone $ would be lost.
  expect(provisioned.replace(/\$\$/g, '')).not.toContain('$');
  const template = provisioned.replace(/\$\$/g, '$');
  const filled = template
    .replace('${__value.raw}', uriEncode(exemplar[EXEMPLAR_LABEL]))
    .replace(/\$\{__data\.fields\["([^"]+)"\]\}/g, (_m, field: string) => {
      expect(exemplar).toHaveProperty([field]);
      return uriEncode(exemplar[field]);
    })
    .replace('${__from}', String(from))
    .replace('${__to}', String(to));
  expect(filled).not.toContain('${');
  return filled;
}

/** The parts of a LogQL log query that say which lines it selects: its matchers and its line filters. */
function logQuery(expr: string): { matchers: Array<[string, string, string]>; lineFilters: Array<[string, string]> } {
  const tree = logqlParser.parse(expr);
  const errors: string[] = [];
  const matchers: Array<[string, string, string]> = [];
  const lineFilters: Array<[string, string]> = [];
  const text = (from: number, to: number) => expr.slice(from, to);
  tree.iterate({
    enter(node) {
      if (node.type.isError) errors.push(`${node.from}: ${text(node.from, node.to)}`);
      if (node.name === 'Matcher') {
        const m = node.node;
        matchers.push([text(m.firstChild!.from, m.firstChild!.to), text(m.firstChild!.nextSibling!.from, m.firstChild!.nextSibling!.to), JSON.parse(text(m.lastChild!.from, m.lastChild!.to))]);
      }
      if (node.name === 'LineFilter') {
        const f = node.node;
        lineFilters.push([text(f.firstChild!.from, f.firstChild!.to), JSON.parse(text(f.lastChild!.from, f.lastChild!.to))]);
      }
    },
  });
  expect(errors).toEqual([]);
  expect(tree.topNode.firstChild?.firstChild?.name).toBe('LogExpr');
  return { matchers, lineFilters };
}

describe('exemplars: from a point on the latency graph to the request\'s log line', () => {
  const objects = synthObjects({});
  let app: ServerProcess;
  let prom: RunningPrometheus;
  let series: SeriesExemplars[] = [];

  const exemplarQuery = async (promql: string): Promise<SeriesExemplars[]> => {
    const now = Date.now() / 1000;
    const res = await fetch(`${prom.url}/api/v1/query_exemplars?${new URLSearchParams({ query: promql, start: String(now - 600), end: String(now + 60) })}`);
    const body = (await res.json()) as { status: string; data: SeriesExemplars[] };
    expect(body.status).toBe('success');
    return body.data;
  };

  beforeAll(async () => {
    // The real app server as the image runs it (node build/server.js; here through tsx), its stdout captured.
    app = await startServerProcess({ APP_LATENCY_MS: '30', APP_ERROR_RATE: '0.05', APP_SHUTDOWN_DELAY_MS: '0' });
    const config: any = parse(find(objects, 'ConfigMap', 'prometheus-config').data['prometheus.yml']);
    config.global = { ...config.global, scrape_interval: '1s', scrape_timeout: '1s', evaluation_interval: '1s' };
    delete config.rule_files;
    delete config.alerting;
    const deployment = find(objects, 'Deployment', 'prometheus');
    const flags = (deployment.spec.template.spec.containers[0].args as string[]).filter((a) => a.startsWith('--enable-feature='));
    const { config: swapped, files } = withFileSd(config, {
      'kubernetes-pods': deploymentPodTargets(find(objects, 'Deployment', 'demo-app'), { namespace: 'demo', hash: '6d9f8b7c5d', suffix: 'q2w3e', port: app.port }),
    });
    prom = await startPrometheus({ config: stringify(swapped), files, args: flags });
    await prom.queryUntilData('up{app="demo-app"} == 1', 20_000, 'the app to be scraped');
    await load(app.url, 1500, 16);
    series = await prom.waitFor(async () => {
      const data = await exemplarQuery(`${DURATION_BUCKET}{namespace="demo", app="demo-app"}`);
      return data.reduce((n, s) => n + s.exemplars.length, 0) >= 10 ? data : undefined;
    }, 20_000, 'exemplars of the app\'s duration histogram');
  }, 90_000);
  afterAll(async () => {
    await prom?.stop();
    await app?.stop();
  });

  test('the synthesized Prometheus keeps exemplars: the feature flag and a bounded ring', () => {
    const args = find(objects, 'Deployment', 'prometheus').spec.template.spec.containers[0].args as string[];
    expect(args).toContain('--enable-feature=exemplar-storage');
    expect(parse(find(objects, 'ConfigMap', 'prometheus-config').data['prometheus.yml']).storage).toEqual({ exemplars: { max_exemplars: 100000 } });
  });

  test('every exemplar is a request the app logged: its id, duration, route and status, on a series with the contract labels', () => {
    const logged = new Map((app.lines as LogLine[]).filter((l) => l.msg === 'request completed' || l.msg === 'request failed').map((l) => [l.request_id, l]));
    expect(logged.size).toBe(1500);
    const all = series.flatMap((s) => s.exemplars.map((e) => ({ series: s.seriesLabels, e })));
    expect(all.length).toBeGreaterThanOrEqual(10);
    for (const { series: labels, e } of all) {
      expect(Object.keys(e.labels)).toEqual([EXEMPLAR_LABEL]);
      const line = logged.get(e.labels[EXEMPLAR_LABEL]);
      expect(line).toBeDefined();
      // The line rounds to the microsecond (duration_ms with 3 decimals).
      expect(Math.abs(Number(e.value) * 1000 - (line!.duration_ms as number))).toBeLessThanOrEqual(0.0006);
      expect([labels.route, labels.status_code]).toEqual([line!.route, String(line!.status)]);
      expect(Number(e.value)).toBeLessThanOrEqual(labels.le === '+Inf' ? Infinity : Number(labels.le));
      for (const label of CONTRACT) expect(labels[label]).toEqual(expect.any(String));
      expect([labels.namespace, labels.app, labels.container]).toEqual(['demo', 'demo-app', 'app']);
    }
    // One exemplar per bucket of a series, the latest: the load spreads over several buckets.
    expect(new Set(all.map((x) => x.series.le)).size).toBeGreaterThanOrEqual(2);
    // A caller's own X-Request-Id is the exemplar too when its request is the bucket's latest: at least its shape is kept.
    expect(all.every((x) => /^([0-9a-f-]{36}|caller-\d+)$/.test(x.e.labels[EXEMPLAR_LABEL]))).toBe(true);
  });

  test('the App dashboard\'s latency panels ask for exemplars, and their queries find them', async () => {
    const dashboards = objects.filter((o) => o.kind === 'ConfigMap' && Object.keys(o.data ?? {}).includes('app.json'));
    expect(dashboards).toHaveLength(1);
    const appDashboard = JSON.parse(dashboards[0].data['app.json']);
    const targets = appDashboard.panels.flatMap((p: any) => (p.targets ?? []).map((t: any) => ({ panel: p.title, ...t })));
    const withExemplars = targets.filter((t: any) => t.exemplar === true);
    expect(withExemplars.map((t: any) => t.panel)).toEqual(['Latency, all routes', 'Latency p95 by route']);
    // Grafana asks for a histogram's exemplars once per panel, for the first query using it, and skips the
    // others (shouldRunExemplarQuery, packages/grafana-prometheus/src/datasource.ts): so the first it is.
    for (const target of withExemplars) {
      expect(targets.filter((t: any) => t.panel === target.panel)[0]).toBe(target);
    }
    for (const target of withExemplars) {
      const promql = (target.expr as string).replace(/\$namespace/g, 'demo').replace(/\$app/g, 'demo-app').replace(/\$__rate_interval/g, '1m');
      const found = await exemplarQuery(promql);
      expect(found.flatMap((s) => s.exemplars).length).toBeGreaterThan(0);
    }
  });

  test('the data source\'s link, filled in for an exemplar, is a LogQL query for that request\'s line in the app\'s stream', () => {
    const datasourcesMap = objects.find((o) => o.kind === 'ConfigMap' && o.data?.['datasources.yaml']);
    const prometheusDs = parse(datasourcesMap.data['datasources.yaml']).datasources.find((d: any) => d.type === 'prometheus');
    const destinations = prometheusDs.jsonData.exemplarTraceIdDestinations;
    expect(destinations).toHaveLength(1);
    expect(destinations[0].name).toBe(EXEMPLAR_LABEL);

    const logged = (app.lines as LogLine[]).filter((l) => typeof l.request_id === 'string');
    const checked = series.flatMap((s) => s.exemplars.map((e) => ({ labels: { ...s.seriesLabels, ...e.labels }, ts: e.timestamp })));
    for (const { labels: exemplar, ts } of checked.map((c) => ({ labels: c.labels as Record<string, string>, ts: c.ts }))) {
      const from = Math.floor(ts * 1000) - 3_600_000;
      const to = Math.ceil(ts * 1000) + 60_000;
      const url = new URL(fillLink(destinations[0].url, exemplar, from, to), 'http://grafana.example:3000');
      expect(url.pathname).toBe('/explore');
      const panes = JSON.parse(url.searchParams.get('panes')!);
      const [pane] = Object.values(panes) as any[];
      expect(Object.keys(panes)).toHaveLength(1);
      expect(pane.datasource).toBe('loki');
      expect(pane.range).toEqual({ from: String(from), to: String(to) });
      expect(pane.queries).toHaveLength(1);
      expect(pane.queries[0].datasource).toEqual({ type: 'loki', uid: 'loki' });

      const { matchers, lineFilters } = logQuery(pane.queries[0].expr);
      expect(matchers).toEqual([['namespace', '=', exemplar.namespace], ['app', '=', exemplar.app]]);
      expect(lineFilters).toEqual([['|=', exemplar[EXEMPLAR_LABEL]]]);

      // As Loki runs it over the app's stream (the agent labels each line of the pod with the contract labels,
      // which equal the series'): the lines holding the id are exactly that request's.
      const stream = Object.fromEntries(CONTRACT.map((l) => [l, exemplar[l]]));
      const selected = matchers.every(([name, , value]) => stream[name] === value) ? app.raw.filter((line) => lineFilters.every(([, s]) => line.includes(s))) : [];
      expect(selected.map((l) => JSON.parse(l).request_id)).toEqual([exemplar[EXEMPLAR_LABEL]]);
    }
    expect(checked.length).toBeGreaterThanOrEqual(10);
    expect(logged.length).toBeGreaterThan(checked.length);
  });
});

describe('exemplars on and off, in both renderings', () => {
  /** What one rendering says about exemplars: Prometheus's flag, its ring, the data source's link. */
  const kubernetes = (input: StackInput) => {
    const objects = synthObjects(input);
    const datasources = parse(objects.find((o) => o.kind === 'ConfigMap' && o.data?.['datasources.yaml'])?.data['datasources.yaml'] ?? 'datasources: []');
    return {
      flag: (find(objects, 'Deployment', 'prometheus').spec.template.spec.containers[0].args as string[]).includes('--enable-feature=exemplar-storage'),
      ring: parse(find(objects, 'ConfigMap', 'prometheus-config').data['prometheus.yml']).storage?.exemplars.max_exemplars,
      link: datasources.datasources.find((d: any) => d.type === 'prometheus')?.jsonData.exemplarTraceIdDestinations?.[0]?.name,
    };
  };
  const compose = (input: StackInput) => {
    const files = renderCompose(parseStackConfig(input));
    const datasources = files.has(COMPOSE_FILES.grafanaDatasources) ? parse(files.get(COMPOSE_FILES.grafanaDatasources)!) : { datasources: [] };
    return {
      flag: (parse(files.get(COMPOSE_FILES.compose)!).services.prometheus.command as string[]).includes('--enable-feature=exemplar-storage'),
      ring: parse(files.get(COMPOSE_FILES.prometheusConfig)!).storage?.exemplars.max_exemplars,
      link: datasources.datasources.find((d: any) => d.type === 'prometheus')?.jsonData.exemplarTraceIdDestinations?.[0]?.name,
    };
  };

  test.each([
    ['the defaults', {}, { flag: true, ring: 100000, link: 'request_id' }],
    ['a larger ring', { prometheus: { maxExemplars: 250000 } }, { flag: true, ring: 250000, link: 'request_id' }],
    ['exemplars off', { prometheus: { maxExemplars: 0 } }, { flag: false, ring: undefined, link: undefined }],
    ['no Loki: exemplars kept, no link to follow', { loki: { enabled: false } }, { flag: true, ring: 100000, link: undefined }],
  ] as Array<[string, StackInput, object]>)('%s', (_what, input, expected) => {
    expect(kubernetes(input)).toEqual(expected);
    expect(compose(input)).toEqual(expected);
  });

  test('the data source links the label the app writes', () => {
    expect(REQUEST_ID_EXEMPLAR_LABEL).toBe(EXEMPLAR_LABEL);
  });
});
