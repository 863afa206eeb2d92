/**
 * The Grafana dashboards (lib/render/dashboards.ts). Grafana cannot run here, so: the JSON model is checked
 * for what Grafana relies on (unique panel ids, a 24-column grid without overlaps, data sources that are the
 * provisioned ones), the log queries for the label contract, and every PromQL query of every panel and
 * variable is run by the real Prometheus 2.42 against the real demo app, scraped with the compose config:
 * each must return data, so a metric or label name that the app does not expose fails here.
 */
import * as fs from 'fs';
import * as http from 'http';
import type { AddressInfo } from 'net';
import * as path from 'path';
import { parse, stringify } from 'yaml';
import { createApp } from '../app/src/app';
import { createLogger } from '../app/src/logger';
import {
  APP_DASHBOARD_FILE,
  APP_DASHBOARD_UID,
  APP_SELECTOR,
  COMPOSE_FILES,
  CONTRACT_LABELS,
  DashboardOptions,
  DASHBOARDS,
  dashboardVariant,
  dashboardVariants,
  LOKI_DATASOURCE_UID,
  parseStackConfig,
  PROMETHEUS_DATASOURCE_UID,
  renderCompose,
  renderDashboards,
  renderGrafanaDatasources,
  STACK_DASHBOARD_FILE,
  STACK_DASHBOARD_UID,
  CONTAINERS_DASHBOARD_FILE,
  CONTAINERS_DASHBOARD_UID,
  NODES_DASHBOARD_FILE,
  NODES_DASHBOARD_UID,
  everyCombination,
  StackInput,
  renderAlertRules,
  renderKubernetesPrometheusConfig,
  RULES_FILE,
  toYaml,
  STACK_APPS,
  PROBLEM_LEVELS,
} from '../lib';
import { helmTemplate } from './helm-support';
import { find, synthObjects } from './helpers/stack';
import { METRIC_SOURCES, metricNames } from './support/metric-sources';
import { tempDir } from './helpers/temp-dir';
import { forVersion025, RunningAlertmanager, startAlertmanager } from './support/alertmanager';
import { ClusterPod, kubeStateMetricsExposition } from './support/kube-state-metrics';
import { makeCertificates, StandInKubelet, startStandInKubelet } from './support/kubelet';
import { podTarget } from './support/pod-targets';
import { FILE_SD_TOKEN, RunningPrometheus, serveMetrics, startPrometheus, withFileSd } from './support/prometheus';

type Json = any;

function panelsOf(d: Json): Json[] {
  return d.panels as Json[];
}

function targetsOf(d: Json, type: 'prometheus' | 'loki'): Json[] {
  return panelsOf(d).flatMap((p) => (p.targets ?? []) as Json[]).filter((t) => t.datasource?.type === type);
}

/** Every combination of the components dashboards depend on. */
const COMBINATIONS: DashboardOptions[] = [
  ...everyCombination(['loki', 'alertmanager', 'kubelet', 'kubeStateMetrics', 'nodeExporter']) as unknown as DashboardOptions[],
  // Lines shipped to a Loki the user runs (loki.external): its data source, not its metrics.
  ...([true, false].map((alertmanager) => ({ loki: true, lokiMetrics: false, alertmanager, kubelet: true, kubeStateMetrics: true, nodeExporter: true }))),
  // A Prometheus of the user's scrapes the stack (prometheus.enabled false), with a Loki of the user's or the stack's.
  ...([true, false].map((lokiMetrics) => ({ prometheus: false, loki: true, lokiMetrics, alertmanager: true, kubelet: true, kubeStateMetrics: true, nodeExporter: true }))),
];
const UIDS: Record<string, string> = { [APP_DASHBOARD_FILE]: APP_DASHBOARD_UID, [STACK_DASHBOARD_FILE]: STACK_DASHBOARD_UID, [CONTAINERS_DASHBOARD_FILE]: CONTAINERS_DASHBOARD_UID, [NODES_DASHBOARD_FILE]: NODES_DASHBOARD_UID };
const on = (o: DashboardOptions) => Object.entries(o).filter(([, v]) => v).map(([k]) => k).join(', ') || 'nothing optional';

/** The rows each dashboard has, by what is on: a component's row is absent when it is off, not empty. */
function expectedRows(file: string, o: DashboardOptions): string[] {
  if (file === APP_DASHBOARD_FILE) return ['Requests', o.kubelet && o.kubeStateMetrics ? 'Resources' : 'Process', ...(o.loki ? ['Logs'] : [])];
  if (file === CONTAINERS_DASHBOARD_FILE) return ['CPU and memory', ...(o.kubeStateMetrics ? ['Restarts and OOM kills'] : [])];
  if (file === NODES_DASHBOARD_FILE) return ['CPU and memory', 'File systems and disks', ...(o.nodeNetwork ?? true ? ['Network'] : [])];
  return ['Targets', ...(o.prometheus ?? true ? ['Prometheus'] : []), ...(o.lokiMetrics ?? o.loki ? ['Loki'] : []), ...(o.loki ? ['Log agent'] : []), ...(o.alertmanager ? ['Alertmanager'] : [])];
}

test('the Containers dashboard exists exactly where the kubelets are scraped, the Nodes dashboard where node-exporter runs', () => {
  for (const o of COMBINATIONS) expect({ o, has: renderDashboards(o).has(CONTAINERS_DASHBOARD_FILE) }).toEqual({ o, has: o.kubelet === true });
  for (const o of COMBINATIONS) expect({ o, has: renderDashboards(o).has(NODES_DASHBOARD_FILE) }).toEqual({ o, has: o.nodeExporter === true });
});

test('the Nodes dashboard without the host\'s network (compose) has no Network row, and reads no node_network_ series', () => {
  const d: Json = JSON.parse(renderDashboards({ loki: false, alertmanager: false, nodeExporter: true, nodeNetwork: false }).get(NODES_DASHBOARD_FILE)!);
  expect(panelsOf(d).filter((p) => p.type === 'row').map((p) => p.title)).toEqual(expectedRows(NODES_DASHBOARD_FILE, { loki: false, alertmanager: false, nodeNetwork: false }));
  expect(targetsOf(d, 'prometheus').filter((t) => /node_network_/.test(t.expr as string))).toEqual([]);
  const withNetwork: Json = JSON.parse(renderDashboards({ loki: false, alertmanager: false, nodeExporter: true }).get(NODES_DASHBOARD_FILE)!);
  expect(targetsOf(withNetwork, 'prometheus').filter((t) => /node_network_/.test(t.expr as string)).length).toBe(4);
});

describe.each(COMBINATIONS.flatMap((o) => DASHBOARDS.filter((spec) => spec.build(o) !== undefined).map((spec) => [spec.file, on(o), spec, o] as const)))('%s (on: %s)', (file, _name, spec, options) => {
  // The file as Grafana reads it.
  const d: Json = JSON.parse(renderDashboards(options).get(file)!);

  test('has a fixed uid and says how it is made', () => {
    expect(d.uid).toBe(UIDS[file]);
    expect(d.description).toMatch(/^Generated by `npm run synth` from lib\/render\/dashboards\.ts/);
  });

  test('panel ids are 1..n; every panel sits in the 24-column grid, none overlaps another', () => {
    const panels = panelsOf(d);
    expect(panels.map((p) => p.id)).toEqual(panels.map((_, i) => i + 1));
    const cells = new Set<string>();
    for (const p of panels) {
      const { x, y, w, h } = p.gridPos;
      expect({ id: p.id, x, w, fits: x >= 0 && w > 0 && x + w <= 24 && h > 0 }).toEqual({ id: p.id, x, w, fits: true });
      for (let cx = x; cx < x + w; cx++) {
        for (let cy = y; cy < y + h; cy++) {
          const cell = `${cx},${cy}`;
          expect({ id: p.id, overlaps: cells.has(cell) }).toEqual({ id: p.id, overlaps: false });
          cells.add(cell);
        }
      }
    }
  });

  test('refers only to the provisioned data sources, by their uids', () => {
    const provisioned = (renderGrafanaDatasources({ prometheus: 'http://p', loki: 'http://l' }) as Json).datasources.map((s: Json) => `${s.type}/${s.uid}`);
    const refs = new Set<string>();
    const walk = (node: Json): void => {
      if (Array.isArray(node)) node.forEach(walk);
      else if (node && typeof node === 'object') {
        if (node.datasource) refs.add(`${node.datasource.type}/${node.datasource.uid}`);
        Object.values(node).forEach(walk);
      }
    };
    walk(d);
    const expected = [`prometheus/${PROMETHEUS_DATASOURCE_UID}`, ...(file === APP_DASHBOARD_FILE && options.loki ? [`loki/${LOKI_DATASOURCE_UID}`] : [])];
    expect([...refs].sort()).toEqual(expected.sort());
    for (const ref of refs) expect(provisioned).toContain(ref);
  });

  test('has the rows of the components that are on, and no row of one that is off', () => {
    expect(panelsOf(d).filter((p) => p.type === 'row').map((p) => p.title)).toEqual(expectedRows(file, options));
    if (!options.loki) expect(targetsOf(d, 'loki')).toEqual([]);
  });

  test('no query reads a metric of a component that is off', () => {
    const metrics = targetsOf(d, 'prometheus').flatMap((t) => metricNames(t.expr as string));
    const ofComponent: Record<Exclude<keyof DashboardOptions, 'nodeNetwork' | 'cadvisorComponent'>, RegExp> = {
      // The agents' (Promtail's, Alloy's loki.write) and Loki's own.
      loki: /^(loki_write_|promtail_)/, lokiMetrics: /^loki_(?!write_)/, alertmanager: /^(alertmanager_|prometheus_notifications_)/,
      kubeStateMetrics: /^(kube_|namespace_pod:app:info)/, kubelet: /^(container_|kubelet_)/, nodeExporter: /^node_/,
      // The stack's own Prometheus's TSDB (a Prometheus of the user's is not the stack's to watch).
      prometheus: /^prometheus_tsdb_/,
    };
    for (const [component, pattern] of Object.entries(ofComponent)) {
      const reading = metrics.filter((m) => pattern.test(m));
      const on = component === 'lokiMetrics' ? options.lokiMetrics ?? options.loki : component === 'prometheus' ? options.prometheus ?? true : options[component as keyof DashboardOptions];
      if (!on) expect({ component, reading }).toEqual({ component, reading: [] });
    }
    // The check can fail: with everything on, the stack dashboard reads both.
    if (file === STACK_DASHBOARD_FILE && options.loki && options.alertmanager) {
      for (const pattern of [ofComponent.loki, ofComponent.alertmanager, ...(options.lokiMetrics ?? true ? [ofComponent.lokiMetrics] : [])]) expect(metrics.some((m) => pattern.test(m))).toBe(true);
    }
    if (file === CONTAINERS_DASHBOARD_FILE && options.kubeStateMetrics) expect(metrics.some((m) => ofComponent.kubeStateMetrics.test(m))).toBe(true);
    if (file === NODES_DASHBOARD_FILE) expect(metrics.every((m) => ofComponent.nodeExporter.test(m))).toBe(true);
  });

  test('the alerts a panel\'s description names exist', () => {
    const alerts = renderAlertRules({ kubeStateMetrics: true, kubelet: true, nodeExporter: true }).groups.flatMap((g) => g.rules).map((r) => r.alert).filter(Boolean) as string[];
    for (const p of panelsOf(d)) {
      // CamelCase words are alert names, but for the proper names the descriptions use.
      for (const [name] of (p.description ?? '').matchAll(/\b[A-Z][a-z]+(?:[A-Z][a-z]+)+\b/g)) {
        if (['OpenTelemetry', 'MemAvailable', 'MemTotal'].includes(name)) continue;
        expect({ panel: p.title, name, exists: alerts.some((a) => a.endsWith(name)) }).toEqual({ panel: p.title, name, exists: true });
      }
    }
  });

  test('every metric a panel queries has its source named (test/support/metric-sources.ts)', () => {
    const exprs = targetsOf(d, 'prometheus').map((t) => t.expr as string);
    expect(exprs.length).toBeGreaterThanOrEqual(5);
    for (const expr of exprs) {
      for (const metric of metricNames(expr)) expect({ expr, metric, source: METRIC_SOURCES[metric] }).toEqual({ expr, metric, source: expect.any(String) });
    }
  });

  test('renders the same bytes every time, and the variant the Helm chart files under its name', () => {
    expect(renderDashboards(options).get(file)).toBe(renderDashboards(options).get(file));
    expect(d).toEqual(JSON.parse(JSON.stringify(spec.build(options))));
    expect(dashboardVariants().files.get(`${file.replace(/\.json$/, '')}/${dashboardVariant(spec, options)}.json`)).toBe(renderDashboards(options).get(file));
  });
});

test('metricNames finds the metrics of a query, not PromQL\'s words, labels or strings', () => {
  expect(metricNames('sum by (namespace, pod) (rate(a_total{x="b_total"}[5m])) or sum by (reason) (rate(c_total[1m])) or label_replace(vector(0), "d", "e", "", "")')).toEqual(['a_total', 'c_total']);
  expect(metricNames('histogram_quantile(0.95, sum by (le) (rate(h_bucket{app="$app"}[$__rate_interval]))) > 0.5')).toEqual(['h_bucket']);
});

describe('the app dashboard', () => {
  test.each([true, false].flatMap((loki) => [[loki, false], [loki, true]]))('Loki %s, container series %s: every PromQL query selects the app by namespace and app, the contract\'s labels', (loki, containers) => {
    const d: Json = JSON.parse(renderDashboards({ loki, alertmanager: true, kubelet: containers, kubeStateMetrics: containers }).get(APP_DASHBOARD_FILE)!);
    const exprs = targetsOf(d, 'prometheus').map((t) => t.expr as string);
    expect(exprs.length).toBeGreaterThan(10);
    for (const expr of exprs) expect({ expr, selects: expr.includes(`{${APP_SELECTOR}`) }).toEqual({ expr, selects: true });
  });

  test('every LogQL stream selector uses only contract labels, the same values as the PromQL ones', () => {
    const d: Json = JSON.parse(renderDashboards({ loki: true, alertmanager: true }).get(APP_DASHBOARD_FILE)!);
    expect(targetsOf(d, 'loki').length).toBeGreaterThan(0);
    for (const t of targetsOf(d, 'loki')) {
      const selector = /\{([^}]*)\}/.exec(t.expr as string)![1];
      expect(selector).toBe(APP_SELECTOR);
      const names = [...selector.matchAll(/(\w+)=/g)].map((m) => m[1]);
      for (const name of names) expect(CONTRACT_LABELS).toContain(name);
    }
  });
});

describe('the same dashboards in every rendering', () => {
  test.each(COMBINATIONS.filter((o) => o.lokiMetrics === undefined).map((o) => [on(o), o] as const))('on: %s: the Grafana ConfigMap of cdk8s and of Helm hold the same files; compose/grafana/dashboards/ too, less what needs a cluster', (_name, options) => {
    const input = { loki: { enabled: options.loki }, alertmanager: { enabled: options.alertmanager }, kubelet: { enabled: options.kubelet }, kubeStateMetrics: { enabled: options.kubeStateMetrics }, nodeExporter: { enabled: options.nodeExporter } };
    const configMap = find(synthObjects(input), 'ConfigMap', 'grafana-dashboards', 'monitoring');
    expect(configMap.data).toEqual(Object.fromEntries(renderDashboards(options)));
    const helm = find(helmTemplate({ set: [`loki.enabled=${options.loki}`, `alertmanager.enabled=${options.alertmanager}`, `kubelet.enabled=${options.kubelet}`, `kubeStateMetrics.enabled=${options.kubeStateMetrics}`, `nodeExporter.enabled=${options.nodeExporter}`] }), 'ConfigMap', 'grafana-dashboards', 'monitoring');
    expect(helm.data).toEqual(configMap.data);
    const compose = renderCompose(parseStackConfig(input));
    const composeDashboards = Object.fromEntries([...compose].filter(([name]) => name.startsWith(`${COMPOSE_FILES.grafanaDashboardsDir}/`) && name.endsWith('.json')).map(([name, text]) => [name.slice(COMPOSE_FILES.grafanaDashboardsDir.length + 1), text]));
    // On compose cAdvisor serves the container series (so the Containers dashboard is its kubelet variant, with
    // no kube-state-metrics), and node-exporter does not count the host's network: the Nodes dashboard has no Network row.
    expect(composeDashboards).toEqual(Object.fromEntries(renderDashboards({ loki: options.loki, alertmanager: options.alertmanager, kubelet: true, nodeExporter: options.nodeExporter, nodeNetwork: false, cadvisorComponent: true })));
  });

  test('without the stack\'s rules the Containers dashboard has no app variable (the app rule is one of them), in cdk8s and Helm alike', () => {
    const cdk8s = find(synthObjects({ prometheus: { alertRules: false } }), 'ConfigMap', 'grafana-dashboards', 'monitoring').data;
    const helm = find(helmTemplate({ set: ['prometheus.alertRules=false'] }), 'ConfigMap', 'grafana-dashboards', 'monitoring').data;
    expect(helm).toEqual(cdk8s);
    expect(JSON.parse(cdk8s[CONTAINERS_DASHBOARD_FILE]).templating.list.map((v: Json) => v.name)).toEqual(['namespace', 'pod']);
    expect(JSON.parse(find(synthObjects(), 'ConfigMap', 'grafana-dashboards', 'monitoring').data[CONTAINERS_DASHBOARD_FILE]).templating.list.map((v: Json) => v.name)).toEqual(['namespace', 'app', 'pod']);
  });

  test('the chart holds every variant of every dashboard, and an index naming what each depends on', () => {
    const chartDir = path.join(__dirname, '..', 'charts', 'observability-stack', 'files', 'grafana', 'dashboards');
    const { index, files } = dashboardVariants();
    expect(parse(fs.readFileSync(path.join(chartDir, 'index.yaml'), 'utf8'))).toEqual(index);
    expect(index.dashboards.map((d) => [d.file, d.dependsOn])).toEqual(DASHBOARDS.map((d) => [d.file, d.dependsOn]));
    for (const [name, json] of files) expect({ name, same: fs.readFileSync(path.join(chartDir, name), 'utf8') === json }).toEqual({ name, same: true });
    // 8 variants of the app dashboard (Loki, the kubelet jobs, kube-state-metrics on/off), 12 of Stack health (the stack's Prometheus
    // or the user's; no Loki, a Loki of the user's, the stack's own (lokiMetrics); Alertmanager on/off), 2 of
    // Containers (kube-state-metrics on/off; none without the kubelet jobs), 1 of Nodes (none without node-exporter).
    expect([...files.keys()].sort()).toEqual([
      'app/kubeStateMetrics.json', 'app/kubelet-kubeStateMetrics.json', 'app/kubelet.json', 'app/loki-kubeStateMetrics.json',
      'app/loki-kubelet-kubeStateMetrics.json', 'app/loki-kubelet.json', 'app/loki.json', 'app/none.json',
      'containers/kubelet-kubeStateMetrics.json', 'containers/kubelet.json',
      'nodes/nodeExporter.json',
      'stack/alertmanager.json', 'stack/loki-alertmanager.json', 'stack/loki-lokiMetrics-alertmanager.json', 'stack/loki-lokiMetrics.json', 'stack/loki.json', 'stack/none.json',
      ...['alertmanager', 'loki-alertmanager', 'loki-lokiMetrics-alertmanager', 'loki-lokiMetrics', 'loki', ''].map((v) => `stack/prometheus${v ? `-${v}` : ''}.json`),
    ].sort());
    expect(index.dashboards.find((d) => d.file === CONTAINERS_DASHBOARD_FILE)!.variants.sort()).toEqual(['kubelet', 'kubelet-kubeStateMetrics']);
  });
});

describe('the PromQL of the app dashboard, run by the real Prometheus against the real app', () => {
  const c = parseStackConfig({ prometheus: { scrapeIntervalSeconds: 1, scrapeTimeoutSeconds: 1, evaluationIntervalSeconds: 1 } });
  const dashboard: Json = JSON.parse(renderDashboards({ loki: true, alertmanager: true }).get(APP_DASHBOARD_FILE)!);
  // On compose, namespace is the project's name (lib/compose/names.ts).
  const vars = { namespace: c.compose.projectName, app: c.app.name };
  let prometheus: RunningPrometheus;
  let server: http.Server;
  let calmServer: http.Server;
  /** A second app that never fails, scraped as app "calm-app". */
  const CALM_APP = 'calm-app';
  let sending = true;
  let traffic: Promise<void>;

  /** Grafana's substitutions: the two variables, and $__rate_interval (4 scrape intervals at least). */
  const substitute = (expr: string): string =>
    expr.replace(/\$namespace/g, vars.namespace).replace(/\$app/g, vars.app).replace(/\$__rate_interval/g, '10s');

  beforeAll(async () => {
    // A fifth of the requests fail, so the error panels have something to show.
    const demo = createApp({ logger: createLogger({ level: 'silent' }), errorRate: 0.2 });
    server = http.createServer(demo.listener);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    calmServer = http.createServer(createApp({ logger: createLogger({ level: 'silent' }), errorRate: 0 }).listener);
    await new Promise<void>((resolve) => calmServer.listen(0, '127.0.0.1', resolve));
    const calmBase = `http://127.0.0.1:${(calmServer.address() as AddressInfo).port}`;
    traffic = (async () => {
      const paths = ['/', '/api/items/3', '/api/items/999', '/nope'];
      for (let i = 0; sending; i++) {
        await (await fetch(`${base}${paths[i % paths.length]}`)).text();
        await (await fetch(`${calmBase}${paths[i % paths.length]}`)).text();
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    })();
    // The compose config, with the app's job only, pointed at the app on loopback.
    const config = parse(renderCompose(c).get(COMPOSE_FILES.prometheusConfig)!);
    delete config.rule_files;
    config.scrape_configs = config.scrape_configs.filter((j: Json) => j.job_name === c.app.name);
    config.scrape_configs[0].static_configs[0].targets = [base.replace('http://', '')];
    expect(config.scrape_configs[0].static_configs[0].labels).toMatchObject({ namespace: vars.namespace, app: vars.app });
    const calm = structuredClone(config.scrape_configs[0]);
    calm.job_name = CALM_APP;
    calm.static_configs[0].targets = [calmBase.replace('http://', '')];
    calm.static_configs[0].labels.app = CALM_APP;
    config.scrape_configs.push(calm);
    prometheus = await startPrometheus({ config: stringify(config) });
  });

  afterAll(async () => {
    sending = false;
    await traffic;
    await prometheus?.stop();
    for (const s of [server, calmServer]) {
      await new Promise<void>((resolve) => {
        if (!s) return resolve();
        s.close(() => resolve());
        s.closeAllConnections();
      });
    }
  });

  test('the variables list the namespace and the apps in it', async () => {
    for (const variable of dashboard.templating.list as Json[]) {
      const m = /^label_values\((.+), (\w+)\)$/.exec(variable.query.query as string)!;
      expect(m).not.toBeNull();
      const [, match, label] = m;
      const expected = variable.name === 'app' ? [CALM_APP, vars.app].sort() : [vars.namespace];
      const values = await prometheus.waitFor(async () => {
        const res = await fetch(`${prometheus.url}/api/v1/label/${label}/values?match[]=${encodeURIComponent(substitute(match))}`);
        const body = (await res.json()) as { data: string[] };
        return body.data.length >= expected.length ? body.data : undefined;
      }, 30_000, `values of ${label}`);
      expect([variable.name, [...values].sort()]).toEqual([variable.name, expected]);
    }
  });

  test('every panel\'s every query returns data: numbers, for this app only', async () => {
    const targets = panelsOf(dashboard).flatMap((p) => ((p.targets ?? []) as Json[]).filter((t) => t.datasource.type === 'prometheus').map((t) => ({ panel: p.title as string, expr: substitute(t.expr) })));
    expect(targets.length).toBeGreaterThan(10);
    for (const { panel, expr } of targets) {
      const samples = await prometheus.waitFor(async () => {
        const r = await prometheus.query(expr);
        return r.length > 0 && r.every((s) => Number.isFinite(Number(s.value[1]))) ? r : undefined;
      }, 30_000, `data for "${panel}": ${expr}`);
      for (const s of samples) {
        for (const [label, value] of Object.entries(s.metric)) {
          if (label === 'namespace' || label === 'app') expect(value).toBe(vars[label]);
        }
      }
    }
  });

  test('the error share is the share of 5xx answers: between 0 and 1, and not 0 here', async () => {
    const expr = substitute(targetsOf(dashboard, 'prometheus').find((t) => (t.expr as string).includes('status_code=~"5.."'))!.expr);
    const [sample] = await prometheus.query(expr);
    const share = Number(sample.value[1]);
    expect(share).toBeGreaterThan(0);
    expect(share).toBeLessThan(1);
  });

  test('an app that never failed shows an error share of 0, not "No data"', async () => {
    const expr = targetsOf(dashboard, 'prometheus').find((t) => (t.expr as string).includes('status_code=~"5.."'))!.expr as string;
    const calm = expr.replace(/\$namespace/g, vars.namespace).replace(/\$app/g, CALM_APP).replace(/\$__rate_interval/g, '10s');
    const samples = await prometheus.queryUntilData(calm, 30_000, 'the calm app\'s error share');
    expect(samples.map((s) => Number(s.value[1]))).toEqual([0]);
    // Without `or vector(0)` the same query has no data at all.
    expect(await prometheus.query(calm.replace(' or vector(0)', ''))).toEqual([]);
  });

  test('the by-route panel shows route templates, never raw paths', async () => {
    const expr = substitute(targetsOf(dashboard, 'prometheus').find((t) => (t.expr as string).startsWith('sum by (route)'))!.expr);
    const routes = await prometheus.waitFor(async () => {
      const r = (await prometheus.query(expr)).map((s) => s.metric.route).sort();
      return r.length === 3 ? r : undefined;
    }, 30_000, 'three routes');
    expect(routes).toEqual(['/', '/api/items/:id', 'unmatched']);
  });
});

describe('the PromQL of the Stack health dashboard, run by the real Prometheus scraping itself, the real Alertmanager and stand-ins', () => {
  // Prometheus 2.42 and Alertmanager 0.25 (Debian) are real; Loki, Promtail, Alloy and Grafana cannot run here,
  // so loopback stand-ins serve their metrics, named and labelled as their source at the pinned version defines
  // them (test/support/metric-sources.ts), with counters that grow at every scrape.
  const input: StackInput = { prometheus: { scrapeIntervalSeconds: 1, scrapeTimeoutSeconds: 1, evaluationIntervalSeconds: 1 } };
  const c = parseStackConfig(input);
  const dashboard: Json = JSON.parse(renderDashboards({ loki: true, alertmanager: true }).get(STACK_DASHBOARD_FILE)!);
  let prometheus: RunningPrometheus;
  let alertmanager: RunningAlertmanager;
  const standIns: Array<{ port: number; close: () => Promise<void> }> = [];
  let grafanaStandIn: { close: () => Promise<void> };
  let scrapes = 0;

  const counter = (name: string, labels: string, perScrape: number) => `# TYPE ${name} counter\n${name}{${labels}} ${perScrape * scrapes}\n`;
  const histogramCount = (name: string, labelSets: string[], perScrape: number) =>
    `# TYPE ${name} histogram\n` +
    labelSets.map((l) => `${name}_bucket{${l},le="+Inf"} ${perScrape * scrapes}\n${name}_sum{${l}} ${0.01 * perScrape * scrapes}\n${name}_count{${l}} ${perScrape * scrapes}\n`).join('');
  // The reasons each agent's client counts drops under, every one initialized at 0 (Promtail: client.go:43-49,
  // 261; Alloy adds queue_is_full: metrics.go:19-22, shards.go:390); here rate_limited grows, 1 line per scrape.
  const REASONS: Record<string, string[]> = {
    promtail: ['ingester_error', 'rate_limited', 'stream_limited', 'line_too_long'],
    loki_write: ['ingester_error', 'rate_limited', 'stream_limited', 'line_too_long', 'queue_is_full'],
  };
  const agent = (prefix: string) => () => {
    scrapes++;
    const host = 'host="loki:3100"';
    return counter(`${prefix}_sent_entries_total`, host, 50) +
      `# TYPE ${prefix}_dropped_entries_total counter\n` +
      REASONS[prefix].map((reason) => `${prefix}_dropped_entries_total{${host},reason="${reason}",tenant=""} ${reason === 'rate_limited' ? scrapes : 0}\n`).join('') +
      histogramCount(`${prefix}_request_duration_seconds`, [`${host},status_code="204",tenant=""`], 2);
  };
  const lokiMetrics = () => {
    scrapes++;
    return counter('loki_distributor_lines_received_total', 'format="loki",is_internal_stream="false",policy="",tenant="fake"', 100) +
      counter('loki_discarded_samples_total', 'format="loki",policy="",reason="rate_limited",retention_hours="168",tenant="fake"', 3) +
      counter('loki_distributor_bytes_received_total', 'format="loki",is_internal_stream="false",policy="",retention_hours="744",tenant="fake"', 20_000) +
      histogramCount('loki_request_duration_seconds', [
        'method="POST",route="loki_api_v1_push",status_code="204",ws="false"',
        'method="GET",route="metrics",status_code="200",ws="false"',
        // dskit counts gRPC calls in the same histogram, status "success", "error" or "cancel" (grpc_instrumentation.go).
        'method="gRPC",route="/logproto.Pusher/Push",status_code="success",ws="false"',
      ], 4);
  };
  const grafanaMetrics = () => '# TYPE grafana_build_info gauge\ngrafana_build_info{version="13.0.1"} 1\n';

  /** Grafana's substitution of $__rate_interval (4 scrape intervals at least). */
  const substitute = (expr: string): string => expr.replace(/\$__rate_interval/g, '10s');

  beforeAll(async () => {
    const files = renderCompose(c);
    const config = parse(files.get(COMPOSE_FILES.prometheusConfig)!);
    delete config.rule_files;
    // Alloy's job comes from the same stack with Alloy as the agent: both agents are scraped here, so both
    // halves of the agent panels' `or` are exercised.
    const alloyJob = parse(renderCompose(parseStackConfig({ ...input, logAgent: { kind: 'alloy' } })).get(COMPOSE_FILES.prometheusConfig)!)
      .scrape_configs.find((j: Json) => j.job_name === 'alloy');
    // node-exporter's and cAdvisor's jobs are left out: the Nodes and Containers dashboards' tests scrape them.
    config.scrape_configs = [...config.scrape_configs.filter((j: Json) => ![c.app.name, 'node-exporter', 'cadvisor'].includes(j.job_name)), alloyJob];
    const amDir = tempDir('stack-dashboard-am-');
    alertmanager = await startAlertmanager(forVersion025(parse(files.get(COMPOSE_FILES.alertmanagerConfig)!), {}, amDir));
    const amAddress = alertmanager.url.replace('http://', '');
    config.alerting.alertmanagers[0].static_configs[0].targets = [amAddress];
    const serve: Record<string, () => string> = { loki: lokiMetrics, promtail: agent('promtail'), alloy: agent('loki_write'), grafana: grafanaMetrics };
    for (const job of config.scrape_configs) {
      if (job.job_name === 'alertmanager') job.static_configs[0].targets = [amAddress];
      else if (job.job_name === 'prometheus') job.static_configs[0].targets = ['127.0.0.1:1']; // itself: set once its port is known
      else {
        expect(Object.keys(serve)).toContain(job.job_name);
        const standIn = await serveMetrics(serve[job.job_name]);
        standIns.push(standIn);
        if (job.job_name === 'grafana') grafanaStandIn = standIn;
        job.static_configs[0].targets = [`127.0.0.1:${standIn.port}`];
      }
    }
    prometheus = await startPrometheus({ config: stringify(config) });
    config.scrape_configs.find((j: Json) => j.job_name === 'prometheus').static_configs[0].targets = [prometheus.url.replace('http://', '')];
    fs.writeFileSync(path.join(prometheus.dir, 'prometheus.yml'), stringify(config));
    expect((await fetch(`${prometheus.url}/-/reload`, { method: 'POST' })).status).toBe(200);
  });

  afterAll(async () => {
    await prometheus?.stop();
    await alertmanager?.stop();
    for (const s of standIns) await s.close();
  });

  test('every panel\'s every query returns data: numbers', async () => {
    const targets = panelsOf(dashboard).flatMap((p) => ((p.targets ?? []) as Json[]).map((t) => ({ panel: p.title as string, expr: substitute(t.expr) })));
    expect(targets.length).toBeGreaterThanOrEqual(15);
    for (const { panel, expr } of targets) {
      await prometheus.waitFor(async () => {
        const r = await prometheus.query(expr);
        return r.length > 0 && r.every((s) => Number.isFinite(Number(s.value[1]))) ? r : undefined;
      }, 30_000, `data for "${panel}": ${expr}`);
    }
  });

  test('the agent panels count Promtail and Alloy alike, and both where both run: neither hides the other', async () => {
    const agentExprs = targetsOf(dashboard, 'prometheus').map((t) => substitute(t.expr as string)).filter((e) => e.includes('promtail_'));
    expect(agentExprs).toHaveLength(3);
    for (const expr of agentExprs) {
      const promtailOnly = expr.replace(/ or rate\(loki_write_[^)]*\)/, '');
      const alloyOnly = expr.replace(/rate\(promtail_[^)]*\) or /, '');
      expect([promtailOnly, alloyOnly].map((e) => metricNames(e).map((n) => n.split('_')[0]))).toEqual([['promtail'], ['loki']]);
      for (const e of [expr, promtailOnly, alloyOnly]) {
        await prometheus.waitFor(async () => (await prometheus.query(e)).length > 0, 30_000, `data for ${e}`);
      }
      // Then all three at the same instant, so they see the same samples.
      const at = Date.now() / 1000;
      const value = async (e: string) => (await prometheus.query(e, at)).reduce((sum, s) => sum + Number(s.value[1]), 0);
      const [both, promtail, alloy] = [await value(expr), await value(promtailOnly), await value(alloyOnly)];
      if (expr.includes('sent_entries') || expr.includes('dropped_entries')) {
        expect(promtail).toBeGreaterThan(0);
        expect(alloy).toBeGreaterThan(0);
      }
      // Neither side hidden: the whole is the sum of the sides.
      expect(both).toBeCloseTo(promtail + alloy, 6);
    }
  });

  test('Loki\'s requests by status leave its internal gRPC calls out', async () => {
    const expr = substitute(panelsOf(dashboard).find((p) => p.title === 'HTTP requests per second by status')!.targets[0].expr);
    const statuses = await prometheus.waitFor(async () => {
      const r = (await prometheus.query(expr)).map((s) => s.metric.status_code).sort();
      return r.length === 2 ? r : undefined;
    }, 30_000, 'two HTTP statuses');
    expect(statuses).toEqual(['200', '204']);
    expect((await prometheus.query(expr.replace('{method!="gRPC"}', ''))).map((s) => s.metric.status_code)).toContain('success');
  });

  test('the rates are the stand-ins\' growth: log lines per second above 0, lines dropped for the reason that grows', async () => {
    const expr = (title: string) => substitute(panelsOf(dashboard).find((p) => p.title === title)!.targets[0].expr);
    const lines = await prometheus.waitFor(async () => {
      const r = await prometheus.query(expr('Log lines received per second'));
      return r.length === 1 && Number(r[0].value[1]) > 0 ? r : undefined;
    }, 30_000, 'lines per second above 0');
    expect(lines[0].metric).toMatchObject({ namespace: c.compose.projectName, pod: expect.stringContaining('loki') });
    const dropped = await prometheus.query(expr('Lines dropped per second, by reason'));
    expect(dropped.map((s) => [s.metric.reason, Number(s.value[1]) > 0]).sort()).toEqual(
      ['ingester_error', 'line_too_long', 'queue_is_full', 'rate_limited', 'stream_limited'].map((reason) => [reason, reason === 'rate_limited']),
    );
  });

  test('"Stack components down" is 0 with the six stack targets up, and 1 once one of them stops answering', async () => {
    const [down] = panelsOf(dashboard).find((p) => p.title === 'Stack components down')!.targets as Json[];
    const [allDown] = panelsOf(dashboard).find((p) => p.title === 'Targets down')!.targets as Json[];
    await prometheus.waitFor(async () => (await prometheus.query(`count(up{app=~"${STACK_APPS.join('|')}"} == 1)`))[0]?.value[1] === '6', 30_000, 'six stack targets up');
    expect((await prometheus.query(down.expr)).map((s) => s.value[1])).toEqual(['0']);
    expect((await prometheus.query(allDown.expr)).map((s) => s.value[1])).toEqual(['0']);
    await grafanaStandIn.close();
    await prometheus.waitFor(async () => (await prometheus.query(down.expr))[0]?.value[1] === '1', 30_000, 'one stack component down');
    expect((await prometheus.query(allDown.expr)).map((s) => s.value[1])).toEqual(['1']);
  });
});

describe('the PromQL of the Containers dashboard, run by the real Prometheus against stand-in kubelet and kube-state-metrics', () => {
  // Both stand-ins serve their components' exposition formats (test/support/kubelet.ts, kube-state-metrics.ts);
  // the real Prometheus scrapes them through the generated jobs and evaluates the generated rules (the `app` rule).
  const NODE = 'kind-control-plane';
  const PODS: ClusterPod[] = [
    {
      namespace: 'shop', name: 'cart-6c8d7f9b5b-q1w2e', node: NODE, labels: { 'app.kubernetes.io/name': 'cart' }, createdBy: { kind: 'ReplicaSet', name: 'cart-6c8d7f9b5b' },
      containers: [{ name: 'cart', ready: true, restarts: 2, requests: { cpu: 0.1, memory: 64e6 }, limits: { cpu: 0.5, memory: 256e6 }, lastTerminated: 'OOMKilled' }],
    },
    {
      namespace: 'shop', name: 'web-5f7c9d8b4-abcde', node: NODE, labels: { app: 'web' }, createdBy: { kind: 'ReplicaSet', name: 'web-5f7c9d8b4' },
      containers: [{ name: 'nginx', ready: true, restarts: 0, requests: { cpu: 0.05, memory: 32e6 }, limits: { cpu: 0.2, memory: 128e6 } }],
    },
    // Another namespace: never in a panel about "shop".
    {
      namespace: 'billing', name: 'invoice-7c9d8f6b5-zzzzz', node: NODE, labels: { 'app.kubernetes.io/name': 'invoice' }, createdBy: { kind: 'ReplicaSet', name: 'invoice-7c9d8f6b5' },
      containers: [{ name: 'invoice', ready: true, restarts: 1, requests: { cpu: 0.1, memory: 64e6 }, limits: { cpu: 0.5, memory: 256e6 }, lastTerminated: 'OOMKilled' }],
    },
  ];
  const SHOP_PODS = PODS.filter((p) => p.namespace === 'shop').map((p) => p.name);
  const dashboard: Json = JSON.parse(renderDashboards({ loki: true, alertmanager: true, kubelet: true, kubeStateMetrics: true }).get(CONTAINERS_DASHBOARD_FILE)!);
  let prometheus: RunningPrometheus;
  let kubelet: StandInKubelet;
  let ksm: { port: number; close: () => Promise<void> };
  /**
   * Grafana's substitutions: namespace "shop"; the app and pod variables' "All" as Grafana sends a multi-value
   * variable without an allValue, every listed value as (a|b); $__rate_interval.
   */
  const multi = (values: string[]) => `(${values.join('|')})`;
  const substitute = (expr: string, pods = SHOP_PODS) => expr.replace(/\$namespace/g, 'shop').replace(/\$app/g, multi(['cart', 'web'])).replace(/\$pod/g, multi(pods)).replace(/\$__rate_interval/g, '10s');

  beforeAll(async () => {
    ksm = await serveMetrics(() => kubeStateMetricsExposition(PODS, ['app.kubernetes.io/name', 'app']));
    kubelet = await startStandInKubelet({
      certs: makeCertificates('containers'), token: FILE_SD_TOKEN, node: NODE,
      containers: PODS.map((p) => ({ namespace: p.namespace, pod: p.name, container: p.containers[0].name, image: 'x:1', cpuLimit: p.containers[0].limits!.cpu })),
    });
    const c = parseStackConfig({ prometheus: { scrapeIntervalSeconds: 1, scrapeTimeoutSeconds: 1, evaluationIntervalSeconds: 1 } });
    const config: Json = renderKubernetesPrometheusConfig(c.prometheus, { kubelet: c.kubelet, kubeStateMetricsNamespace: 'monitoring' });
    config.rule_files = ['rules/*.yaml'];
    config.scrape_configs = config.scrape_configs.filter((j: Json) => j.job_name === 'cadvisor' || j.job_name === 'kube-state-metrics');
    for (const job of config.scrape_configs) job.scrape_interval = '1s';
    const { config: swapped, files } = withFileSd(config, {
      cadvisor: [{ targets: [`127.0.0.1:${kubelet.port}`], labels: { __meta_kubernetes_node_name: NODE } }],
      'kube-state-metrics': [podTarget({ ip: '127.0.0.1', port: ksm.port, portName: 'http-metrics', namespace: 'monitoring', pod: 'kube-state-metrics-0', container: 'kube-state-metrics', node: NODE, labels: { 'app.kubernetes.io/name': 'kube-state-metrics' } })],
    });
    prometheus = await startPrometheus({ config: stringify(swapped), files: { ...files, [`rules/${RULES_FILE}`]: toYaml(renderAlertRules({ kubeStateMetrics: true, kubelet: true })) } });
  });

  afterAll(async () => {
    await prometheus?.stop();
    await kubelet?.close();
    await ksm?.close();
  });

  test('the variables list the namespace, its apps and their pods', async () => {
    const values = async (variable: Json) => {
      const m = /^label_values\((.+), (\w+)\)$/.exec(variable.query.query as string)!;
      return prometheus.waitFor(async () => {
        const res = await fetch(`${prometheus.url}/api/v1/label/${m[2]}/values?match[]=${encodeURIComponent(substitute(m[1]))}`);
        const body = (await res.json()) as { data: string[] };
        return body.data.length > 0 ? body.data.sort() : undefined;
      }, 30_000, `values of ${variable.name}`);
    };
    const list = dashboard.templating.list as Json[];
    expect(list.map((v) => v.name)).toEqual(['namespace', 'app', 'pod']);
    expect(await values(list[0])).toEqual(['billing', 'shop']);
    expect(await values(list[1])).toEqual(['cart', 'web']);
    expect(await values(list[2])).toEqual([...SHOP_PODS].sort());
    // "All" sends the values listed, so choosing an app narrows the panels to its pods.
    expect(list.map((v) => [v.name, v.includeAll ?? false, v.allValue ?? null])).toEqual([['namespace', false, null], ['app', true, null], ['pod', true, null]]);
  });

  test('choosing an app narrows the panels to its pods', async () => {
    const podQuery = /^label_values\((.+), pod\)$/.exec((dashboard.templating.list as Json[])[2].query.query)![1].replace(/\$namespace/g, 'shop').replace(/\$app/g, multi(['cart']));
    const res = await fetch(`${prometheus.url}/api/v1/label/pod/values?match[]=${encodeURIComponent(podQuery)}`);
    const cartPods = ((await res.json()) as { data: string[] }).data;
    expect(cartPods).toEqual(['cart-6c8d7f9b5b-q1w2e']);
    const cpu = substitute(panelsOf(dashboard).find((p) => p.title === 'CPU used')!.targets[0].expr, cartPods);
    const shown = await prometheus.queryUntilData(cpu, 30_000, 'the cart pod\'s CPU');
    expect(shown.map((s) => s.metric.pod)).toEqual(cartPods);
  });

  test('every panel\'s every query returns data: numbers, for the chosen namespace only', async () => {
    const targets = panelsOf(dashboard).flatMap((p) => ((p.targets ?? []) as Json[]).map((t) => ({ panel: p.title as string, expr: substitute(t.expr) })));
    expect(targets.length).toBeGreaterThanOrEqual(9);
    for (const { panel, expr } of targets) {
      const samples = await prometheus.waitFor(async () => {
        const r = await prometheus.query(expr);
        return r.length > 0 && r.every((s) => Number.isFinite(Number(s.value[1]))) ? r : undefined;
      }, 30_000, `data for "${panel}": ${expr}`);
      for (const s of samples) if (s.metric.pod) expect(SHOP_PODS).toContain(s.metric.pod);
    }
  });

  test('memory against its limit: the working set and the limit of the same container', async () => {
    const [working, request, limit] = panelsOf(dashboard).find((p) => p.title === 'Memory working set')!.targets.map((t: Json) => substitute(t.expr));
    const byContainer = async (e: string) => Object.fromEntries((await prometheus.query(e)).map((s) => [s.metric.container, Number(s.value[1])]));
    expect(await byContainer(limit)).toEqual({ cart: 256e6, nginx: 128e6 });
    expect(panelsOf(dashboard).filter((p) => p.targets).map((p) => p.interval)).toEqual(panelsOf(dashboard).filter((p) => p.targets).map(() => '1m'));
    expect(await byContainer(request)).toEqual({ cart: 64e6, nginx: 32e6 });
    expect(await byContainer(working)).toEqual({ cart: 20e6, nginx: 21e6 });
  });

  test('the app dashboard, with container series, shows the CPU and memory of the chosen app\'s pods only', async () => {
    const app: Json = JSON.parse(renderDashboards({ loki: true, alertmanager: true, kubelet: true, kubeStateMetrics: true }).get(APP_DASHBOARD_FILE)!);
    const resources = panelsOf(app).filter((p) => p.title === 'CPU' || p.title === 'Memory working set');
    expect(resources.map((p) => [p.title, p.interval])).toEqual([['CPU', '1m'], ['Memory working set', '1m']]);
    for (const p of resources) {
      const expr = p.targets[0].expr.replace(/\$namespace/g, 'shop').replace(/\$app/g, 'cart').replace(/\$__rate_interval/g, '10s');
      const r = await prometheus.queryUntilData(expr, 30_000, `data for the app's ${p.title}`);
      expect(r.map((s) => s.metric.pod)).toEqual(['cart-6c8d7f9b5b-q1w2e']);
    }
  });

  test('the OOM panel names the container whose last exit was an OOM kill', async () => {
    const expr = substitute(panelsOf(dashboard).find((p) => p.title === 'Last exit was an OOM kill')!.targets[0].expr);
    expect((await prometheus.query(expr)).map((s) => [s.metric.pod, s.metric.container, s.value[1]])).toEqual([['cart-6c8d7f9b5b-q1w2e', 'cart', '1']]);
  });
});

describe('the App dashboard\'s problem lines serve any language\'s JSON logs', () => {
  // LogQL's =~ is anchored like Prometheus's; (?i) is RE2's case-insensitive flag, JavaScript's `i`.
  const pattern = PROBLEM_LEVELS.replace(/^\(\?i\)/, '');
  const matches = (level: string) => new RegExp(`^(?:${pattern})$`, PROBLEM_LEVELS.startsWith('(?i)') ? 'i' : '').test(level);

  test('the panel filters on it', () => {
    const app = JSON.parse(renderDashboards({ loki: true, alertmanager: false }).get(APP_DASHBOARD_FILE)!);
    const exprs = app.panels.flatMap((p: any) => (p.targets ?? []).map((t: any) => t.expr));
    expect(exprs).toContain(`{namespace="$namespace", app="$app"} | json level | level=~"${PROBLEM_LEVELS}"`);
  });

  test.each([
    ['pino (Node.js, app/)', ['fatal', 'error', 'warn'], ['info', 'debug', 'trace']],
    ['Go log/slog JSONHandler', ['ERROR', 'WARN'], ['INFO', 'DEBUG']],
    ['Python logging (python-json-logger, structlog)', ['CRITICAL', 'ERROR', 'WARNING', 'critical', 'error', 'warning'], ['INFO', 'info', 'DEBUG']],
    ['Logback / Log4j2 JSON (Java)', ['ERROR', 'WARN', 'FATAL'], ['INFO', 'DEBUG', 'TRACE']],
  ])('%s: its problem levels and not the others', (_name, problems, others) => {
    for (const l of problems) expect({ level: l, listed: matches(l) }).toEqual({ level: l, listed: true });
    for (const l of others) expect({ level: l, listed: matches(l) }).toEqual({ level: l, listed: false });
  });
});
