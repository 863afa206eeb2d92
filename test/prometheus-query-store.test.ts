/**
 * grafana.prometheusQuery: Grafana reads metrics from a long-term store that the stack's Prometheus feeds by
 * remote write. Here the store is a second REAL Prometheus (Debian's 2.42) receiving remote writes
 * (--web.enable-remote-write-receiver, with exemplar storage), as Mimir or Thanos Receive would; the stack's
 * Prometheus runs the synthesized prometheus.yml and flags (kubernetes_sd swapped for file_sd; 1 s interval) and
 * scrapes the real demo app under traffic. Every query of the App dashboard, asked of the store at the URL the
 * synthesized data source names, returns the app's data by the contract's labels, and the exemplars arrive too.
 */
import * as http from 'node:http';
import { parse, stringify } from 'yaml';
import type { StackInput } from '../lib';
import { startApp, type RunningApp } from './app/helpers';
import { find, synthObjects } from './helpers/stack';
import { deploymentPodTargets } from './support/pod-targets';
import { startPrometheus, withFileSd, type RunningPrometheus } from './support/prometheus';

describe('Grafana on a long-term store fed by remote write', () => {
  let app: RunningApp;
  let store: RunningPrometheus;
  let prometheus: RunningPrometheus;
  let objects: any[];
  let stop = false;
  let traffic: Promise<void>;

  beforeAll(async () => {
    app = await startApp({ latencyMs: 5, errorRate: 0.1 });
    store = await startPrometheus({ config: 'global: {scrape_interval: 1m}\n', args: ['--web.enable-remote-write-receiver', '--enable-feature=exemplar-storage'] });
    const input: StackInput = {
      kubelet: { enabled: false }, kubeStateMetrics: { enabled: false }, nodeExporter: { enabled: false },
      prometheus: { remoteWrite: [{ name: 'store', url: `${store.url}/api/v1/write` }] },
      grafana: { prometheusQuery: { url: store.url, type: 'Prometheus' } },
    };
    objects = synthObjects(input);
    const config: any = parse(find(objects, 'ConfigMap', 'prometheus-config').data['prometheus.yml']);
    config.global = { ...config.global, scrape_interval: '1s', scrape_timeout: '1s', evaluation_interval: '1s' };
    delete config.rule_files;
    delete config.alerting;
    // Ship at once rather than every 5 s.
    config.remote_write = config.remote_write.map((q: any) => ({ ...q, queue_config: { batch_send_deadline: '1s' } }));
    const flags = (find(objects, 'Deployment', 'prometheus').spec.template.spec.containers[0].args as string[]).filter((a) => a.startsWith('--enable-feature='));
    const { config: swapped, files } = withFileSd(config, {
      'kubernetes-pods': deploymentPodTargets(find(objects, 'Deployment', 'demo-app'), { namespace: 'demo', hash: '6d9f8b7c5d', suffix: 'q2w3e', port: app.port }),
    });
    prometheus = await startPrometheus({ config: stringify(swapped), files, args: flags });
    const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
    const paths = ['/', '/api/items/3', '/api/items/500', '/nope'];
    let i = 0;
    traffic = (async () => {
      while (!stop) {
        await new Promise<void>((resolve) => http.get(`${app.url}${paths[i++ % paths.length]}`, { agent }, (res) => res.resume().on('end', resolve)).on('error', () => resolve()));
        await new Promise((r) => setTimeout(r, 10));
      }
      agent.destroy();
    })();
    await store.queryUntilData('sum(rate(http_server_request_duration_seconds_count{namespace="demo", app="demo-app"}[10s])) > 0', 40_000, 'the app\'s series in the store');
  }, 90_000);
  afterAll(async () => {
    stop = true;
    await traffic;
    await prometheus?.stop();
    await store?.stop();
    await app?.close();
  });

  test('the data source reads the store, as the type the settings name, without the stack\'s version', () => {
    const datasources = parse(objects.find((o) => o.kind === 'ConfigMap' && o.data?.['datasources.yaml']).data['datasources.yaml']).datasources;
    const ds = datasources.find((d: any) => d.type === 'prometheus');
    expect(ds.url).toBe(store.url);
    expect(ds.jsonData.prometheusType).toBe('Prometheus');
    expect(ds.jsonData.prometheusVersion).toBeUndefined();
  });

  test('every Prometheus query of the App dashboard finds the app in the store, by the contract\'s labels', async () => {
    const dashboard = JSON.parse(objects.find((o) => o.kind === 'ConfigMap' && o.data?.['app.json']).data['app.json']);
    const substitute = (expr: string) => expr.replace(/\$namespace/g, 'demo').replace(/\$app/g, 'demo-app').replace(/\$__rate_interval/g, '10s');
    const targets = dashboard.panels.flatMap((p: any) => (p.targets ?? []).filter((t: any) => t.datasource.type === 'prometheus').map((t: any) => ({ panel: p.title, expr: substitute(t.expr) })));
    expect(targets.length).toBeGreaterThan(5);
    for (const t of targets) {
      const samples = await store.queryUntilData(t.expr, 20_000, `${t.panel}: ${t.expr}`);
      expect({ panel: t.panel, found: samples.length > 0 }).toEqual({ panel: t.panel, found: true });
    }
    // The variables' values come from the store too.
    const res = await fetch(`${store.url}/api/v1/label/app/values?match[]=${encodeURIComponent('http_server_request_duration_seconds_count{namespace="demo"}')}`);
    expect(((await res.json()) as { data: string[] }).data).toEqual(['demo-app']);
    // The series carry every label of the contract, as the stack's Prometheus keeps them.
    const [series] = await store.query('up{app="demo-app"}');
    expect(Object.keys(series.metric)).toEqual(expect.arrayContaining(['namespace', 'pod', 'container', 'app', 'node']));
  });

  test('the exemplars are shipped with the samples: the request ids reach the store', async () => {
    expect(parse(find(objects, 'ConfigMap', 'prometheus-config').data['prometheus.yml']).remote_write[0].send_exemplars).toBe(true);
    const found = await store.waitFor(async () => {
      const now = Date.now() / 1000;
      const res = await fetch(`${store.url}/api/v1/query_exemplars?${new URLSearchParams({ query: 'http_server_request_duration_seconds_bucket{app="demo-app"}', start: String(now - 300), end: String(now + 60) })}`);
      const data = ((await res.json()) as { data: Array<{ exemplars: Array<{ labels: Record<string, string> }> }> }).data;
      const ids = data.flatMap((s) => s.exemplars.map((e) => e.labels.request_id));
      return ids.length > 0 ? ids : undefined;
    }, 20_000, 'exemplars in the store');
    const logged = new Set(app.logs().map((l) => l.request_id));
    for (const id of found) expect(logged.has(id)).toBe(true);
  });
});
