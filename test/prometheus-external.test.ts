/**
 * A Prometheus the user already runs (prometheus.enabled false): the stack deploys no Prometheus of its own, and
 * hands that Prometheus its scrape jobs (the ConfigMap prometheus-scrape-configs; compose/prometheus/scrape-configs.yml)
 * and rules; its network policies let that Prometheus in wherever they let the stack's in; Grafana reads the store
 * it writes to. The jobs are the very ones the stack's own Prometheus runs, with the stack's interval stated on each,
 * and the REAL Prometheus (Debian's 2.42), configured with another global interval, gives a pod's target the label
 * contract and the stack's interval from them. Checked in cdk8s and compose here, in the chart by
 * test/helm-parity.test.ts (ci/23) and below.
 */
import { parse, stringify } from 'yaml';
import * as fs from 'fs';
import * as path from 'path';
import { parseStackConfig, renderManifests, StackInput } from '../lib';
import { NO_PROMETHEUS_OF_OURS, readComposeVerifyPlan, readVerifyPlan } from '../lib/verify';
import { tempDir } from './helpers/temp-dir';
import { COMPOSE_FILES } from '../lib/compose/config-files';
import { renderCompose } from '../lib/compose/render-compose';
import { PROMETHEUS_ADDITIONAL_SCRAPE_CONFIGS_FILE, PROMETHEUS_SCRAPE_CONFIGS_FILE } from '../lib/components/prometheus';
import { STACK_DASHBOARD_FILE } from '../lib/render/dashboards';
import { KUBERNETES_PODS_JOB } from '../lib/render/prometheus-config';
import { CONTRACT_LABELS } from '../lib/render/relabel';
import { helmTemplate, scenario, templateScenario } from './helm-support';
import { find, synthObjects } from './helpers/stack';
import { podTarget } from './support/pod-targets';
import { promtoolCheckConfig, RunningPrometheus, serveMetrics, startPrometheus, withFileSd } from './support/prometheus';

const MIMIR = 'http://mimir-query-frontend.mimir.svc:8080/prometheus';
const EXTERNAL: StackInput = { prometheus: { enabled: false, scraper: { namespace: 'kps' } }, grafana: { prometheusQuery: { url: MIMIR } } };

const rowsOf = (json: string) => JSON.parse(json).panels.filter((p: any) => p.type === 'row').map((p: any) => p.title);
/** Every `from` peer of every ingress rule of the stack's policies, with the policy's name. */
const peersOf = (objects: any[]) => objects.filter((o) => o.kind === 'NetworkPolicy')
  .flatMap((p) => (p.spec.ingress ?? []).flatMap((rule: any) => (rule.from ?? []).map((peer: any) => ({ policy: p.metadata.name, peer }))));
const scraperPeer = { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kps' } }, podSelector: { matchLabels: { 'app.kubernetes.io/name': 'prometheus' } } };

describe('cdk8s: the stack without a Prometheus of its own', () => {
  const objects = synthObjects(EXTERNAL);
  const own = synthObjects({});

  test('no Prometheus workload, Service, claim, account, role or policy; the jobs and the rules stay, as ConfigMaps', () => {
    const prometheusObjects = (os: any[]) => os.filter((o) => o.metadata?.labels?.['app.kubernetes.io/name'] === 'prometheus').map((o) => `${o.kind}/${o.metadata.name}`).sort();
    expect(prometheusObjects(objects)).toEqual(['ConfigMap/prometheus-rules', 'ConfigMap/prometheus-scrape-configs']);
    // The check can fail: the stack's own has them all.
    expect(prometheusObjects(own)).toEqual(expect.arrayContaining(['ClusterRole/monitoring-prometheus', 'Deployment/prometheus', 'NetworkPolicy/prometheus', 'PersistentVolumeClaim/prometheus-data', 'Service/prometheus', 'ServiceAccount/prometheus']));
    expect(prometheusObjects(own)).not.toContain('ConfigMap/prometheus-scrape-configs');
  });

  test('the jobs are the stack\'s own Prometheus\'s, each stating the stack\'s interval and timeout (the kubelet jobs keep theirs)', () => {
    const data = find(objects, 'ConfigMap', 'prometheus-scrape-configs', 'monitoring').data;
    const file = parse(data[PROMETHEUS_SCRAPE_CONFIGS_FILE]);
    expect(Object.keys(file)).toEqual(['scrape_configs']);
    expect(parse(data[PROMETHEUS_ADDITIONAL_SCRAPE_CONFIGS_FILE])).toEqual(file.scrape_configs);
    const ours = parse(find(own, 'ConfigMap', 'prometheus-config', 'monitoring').data['prometheus.yml']);
    const jobs = file.scrape_configs.map(({ scrape_interval, scrape_timeout, ...job }: any) => {
      expect({ job: job.job_name, scrape_interval, scrape_timeout }).toEqual({ job: job.job_name, scrape_interval: /^(cadvisor|kubelet)$/.test(job.job_name) ? '30s' : '15s', scrape_timeout: '10s' });
      return job;
    });
    expect(jobs).toEqual(ours.scrape_configs.map(({ scrape_interval, ...job }: any) => job));
    expect(jobs.map((j: any) => j.job_name)).toEqual([KUBERNETES_PODS_JOB, 'cadvisor', 'kubelet', 'kube-state-metrics', 'node-exporter']);
  });

  test('the rules are the same ConfigMap, and the PrometheusRule when asked for', () => {
    expect(find(objects, 'ConfigMap', 'prometheus-rules', 'monitoring').data).toEqual(find(own, 'ConfigMap', 'prometheus-rules', 'monitoring').data);
    const withRule = synthObjects({ ...EXTERNAL, prometheus: { ...EXTERNAL.prometheus, prometheusRule: { enabled: true } } });
    expect(find(withRule, 'PrometheusRule', 'observability-stack', 'monitoring').spec.groups.length).toBeGreaterThan(0);
  });

  test('every policy that lets the stack\'s Prometheus in lets the user\'s in instead, by its name alone; none names the stack\'s', () => {
    const ownScraped = peersOf(own).filter((p) => p.peer.podSelector.matchLabels['app.kubernetes.io/name'] === 'prometheus').map((p) => p.policy).sort();
    expect(ownScraped).toEqual(expect.arrayContaining(['alertmanager', 'kube-state-metrics', 'loki', 'promtail']));
    const scraped = peersOf(objects).filter((p) => p.peer.podSelector.matchLabels['app.kubernetes.io/name'] === 'prometheus');
    expect(scraped.map((p) => p.policy).sort()).toEqual(ownScraped);
    for (const { peer } of scraped) expect(peer).toEqual(scraperPeer);
  });

  test('Grafana reads the store; Stack health has no Prometheus row', () => {
    const datasources = parse(find(objects, 'ConfigMap', 'grafana-datasources', 'monitoring').data['datasources.yaml']).datasources;
    expect(datasources.find((d: any) => d.uid === 'prometheus')).toMatchObject({ url: MIMIR, jsonData: { prometheusType: 'Mimir' } });
    const stack = find(objects, 'ConfigMap', 'grafana-dashboards', 'monitoring').data[STACK_DASHBOARD_FILE];
    expect(rowsOf(stack)).not.toContain('Prometheus');
    expect(rowsOf(find(own, 'ConfigMap', 'grafana-dashboards', 'monitoring').data[STACK_DASHBOARD_FILE])).toContain('Prometheus');
  });

  test('npm run verify asks the store through Grafana (test/verify.test.ts); without Grafana it says there is nothing to ask', () => {
    const write = (files: Map<string, string>) => {
      const dir = tempDir('prometheus-external-');
      for (const [name, content] of files) {
        fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
        fs.writeFileSync(path.join(dir, name), content);
      }
      return dir;
    };
    const plan = readVerifyPlan(write(renderManifests(parseStackConfig(EXTERNAL))));
    expect(plan.prometheusNamespace).toBeUndefined();
    expect(plan.grafana!.prometheusStore).toBe(MIMIR);
    expect(plan.targets.map((t) => t.app ?? t.job)).not.toContain('prometheus');
    expect(plan.targets.map((t) => t.job)).toEqual(expect.arrayContaining(['cadvisor', 'kubelet', 'kube-state-metrics', 'node-exporter']));
    const compose = readComposeVerifyPlan(write(renderCompose(parseStackConfig(EXTERNAL))));
    expect(compose.plan.prometheusNamespace).toBeUndefined();
    expect(compose.endpoints.prometheusPort).toBeUndefined();
    expect(compose.plan.targets.map((t) => t.job)).not.toContain('prometheus');
    const noGrafana: StackInput = { prometheus: { enabled: false, scraper: { namespace: 'kps' } }, grafana: { enabled: false } };
    expect(() => readVerifyPlan(write(renderManifests(parseStackConfig(noGrafana))))).toThrow(NO_PROMETHEUS_OF_OURS);
    expect(() => readComposeVerifyPlan(write(renderCompose(parseStackConfig(noGrafana))))).toThrow(NO_PROMETHEUS_OF_OURS);
  });

  test('the refusals: Grafana with no store, the policies with no namespace, remote write, a scraper while the stack scrapes', () => {
    const problems = (input: StackInput) => { try { parseStackConfig(input); return ''; } catch (e) { return (e as Error).message; } };
    expect(problems({ prometheus: { enabled: false, scraper: { namespace: 'kps' } } })).toContain('grafana.enabled needs grafana.prometheusQuery.url set');
    expect(problems({ prometheus: { enabled: false }, grafana: { prometheusQuery: { url: MIMIR } } })).toContain('networkPolicies.enabled needs prometheus.scraper.namespace set');
    expect(problems({ ...EXTERNAL, prometheus: { ...EXTERNAL.prometheus, remoteWrite: [{ name: 'mimir', url: 'http://mimir/api/v1/push' }] } })).toContain('prometheus.remoteWrite must be empty unless prometheus.enabled is true');
    expect(problems({ prometheus: { scraper: { namespace: 'kps' } } })).toContain('prometheus.scraper.namespace must be empty while prometheus.enabled is true');
    // Neither Grafana nor policies: nothing else is needed.
    expect(problems({ prometheus: { enabled: false }, grafana: { enabled: false }, networkPolicies: { enabled: false } })).toBe('');
  });
});

describe('the chart without a Prometheus of its own (ci/23)', () => {
  const objects = templateScenario(scenario('23-prometheus-external-values.yaml'));

  test('the same ConfigMap of jobs as cdk8s for the same settings, with and without the node-level jobs, and no Prometheus workload', () => {
    const sameJobs = (chart: any[], input: StackInput) => {
      const ofChart = find(chart, 'ConfigMap', 'prometheus-scrape-configs', 'monitoring').data;
      const ofCdk8s = find(synthObjects(input), 'ConfigMap', 'prometheus-scrape-configs', 'monitoring').data;
      expect(Object.keys(ofChart).sort()).toEqual(Object.keys(ofCdk8s).sort());
      for (const key of Object.keys(ofCdk8s)) expect({ key, jobs: parse(ofChart[key]) }).toEqual({ key, jobs: parse(ofCdk8s[key]) });
      return parse(ofChart[PROMETHEUS_SCRAPE_CONFIGS_FILE]).scrape_configs.map((j: any) => j.job_name);
    };
    const off = { kubelet: { enabled: false }, kubeStateMetrics: { enabled: false }, nodeExporter: { enabled: false } };
    expect(sameJobs(objects, { ...off, prometheus: { enabled: false, scraper: { namespace: 'kps' }, prometheusRule: { enabled: true, labels: { release: 'kube-prometheus-stack' } } }, grafana: { prometheusQuery: { url: MIMIR, tenant: 'team-a' } } })).toEqual([KUBERNETES_PODS_JOB]);
    const every = helmTemplate({ set: ['prometheus.enabled=false'], setString: ['prometheus.scraper.namespace=kps', `grafana.prometheusQuery.url=${MIMIR}`] });
    expect(sameJobs(every, EXTERNAL)).toEqual([KUBERNETES_PODS_JOB, 'cadvisor', 'kubelet', 'kube-state-metrics', 'node-exporter']);
    expect(objects.filter((o) => ['Deployment', 'Service', 'PersistentVolumeClaim', 'ServiceAccount'].includes(o.kind) && o.metadata.name === 'prometheus')).toEqual([]);
    expect(objects.filter((o) => o.metadata?.name === 'prometheus-test-ready')).toEqual([]);
  });

  test('the policies let the user\'s Prometheus in by its name alone; the PrometheusRule carries the labels its ruleSelector matches', () => {
    const scraped = peersOf(objects).filter((p) => p.peer.podSelector.matchLabels['app.kubernetes.io/name'] === 'prometheus');
    expect(scraped.map((p) => p.policy).sort()).toEqual(['alertmanager', 'loki', 'promtail']);
    for (const { peer } of scraped) expect(peer).toEqual(scraperPeer);
    expect(find(objects, 'PrometheusRule', 'observability-stack', 'monitoring').metadata.labels).toMatchObject({ release: 'kube-prometheus-stack', 'app.kubernetes.io/name': 'prometheus' });
  });

  test('a release upgraded with --reuse-values from a chart without prometheus.scraper.name lets in the default name, not null', () => {
    const chart = helmTemplate({ set: ['prometheus.enabled=false', 'prometheus.scraper.name=null'], setString: ['prometheus.scraper.namespace=kps', `grafana.prometheusQuery.url=${MIMIR}`] });
    const scraped = peersOf(chart).filter((p) => p.peer.namespaceSelector?.matchLabels['kubernetes.io/metadata.name'] === 'kps');
    expect(scraped.length).toBeGreaterThan(0);
    for (const { peer } of scraped) expect(peer).toEqual(scraperPeer);
  });

  test('a release upgraded with --reuse-values from a chart without prometheus.enabled keeps its Prometheus and passes the rules', () => {
    const old = helmTemplate({ set: ['prometheus.enabled=null', 'prometheus.scraper=null'] });
    expect(old.filter((o) => o.kind === 'Deployment' && o.metadata.name === 'prometheus')).toHaveLength(1);
  });
});

describe('compose without a Prometheus of its own', () => {
  const c = parseStackConfig(EXTERNAL);
  const files = renderCompose(c);
  const compose = parse(files.get(COMPOSE_FILES.compose)!);

  test('the jobs\' targets are services of the frontend and backend networks, both of which the README says to join', () => {
    const jobs = parse(files.get(COMPOSE_FILES.prometheusScrapeConfigs)!).scrape_configs;
    const networks = new Set<string>();
    for (const job of jobs) {
      for (const target of job.static_configs.flatMap((g: any) => g.targets)) {
        const service = compose.services[target.split(':')[0]];
        expect({ target, on: service?.networks }).toEqual({ target, on: expect.any(Array) });
        for (const n of service.networks) if (n !== 'egress') networks.add(n);
      }
    }
    expect([...networks].sort()).toEqual(['backend', 'frontend']);
    expect(files.get(COMPOSE_FILES.readme)).toContain(`\`${c.compose.projectName}_frontend\`, the app's, and \`${c.compose.projectName}_backend\``);
  });

  test('no prometheus service or prometheus.yml; the jobs in prometheus/scrape-configs.yml, the stack\'s own less Prometheus', () => {
    expect(Object.keys(compose.services)).not.toContain('prometheus');
    expect(files.has(COMPOSE_FILES.prometheusConfig)).toBe(false);
    const jobs = parse(files.get(COMPOSE_FILES.prometheusScrapeConfigs)!).scrape_configs;
    const ours = parse(renderCompose(parseStackConfig({})).get(COMPOSE_FILES.prometheusConfig)!).scrape_configs;
    expect(jobs.map((j: any) => j.job_name)).toEqual(ours.map((j: any) => j.job_name).filter((name: string) => name !== 'prometheus'));
    for (const job of jobs) expect(job).toMatchObject({ scrape_interval: '15s', scrape_timeout: '10s' });
    expect(compose.services.grafana.depends_on).not.toHaveProperty('prometheus');
    expect(parse(files.get(COMPOSE_FILES.grafanaDatasources)!).datasources.find((d: any) => d.uid === 'prometheus').url).toBe(MIMIR);
  });
});

describe('the REAL Prometheus loads the jobs beside its own global settings', () => {
  let prom: RunningPrometheus;
  let app: { port: number; close(): Promise<void> };
  const objects = synthObjects(EXTERNAL);
  const jobs = parse(find(objects, 'ConfigMap', 'prometheus-scrape-configs', 'monitoring').data[PROMETHEUS_SCRAPE_CONFIGS_FILE]).scrape_configs;
  const deployment = find(objects, 'Deployment', 'demo-app', 'demo');

  beforeAll(async () => {
    app = await serveMetrics('demo_requests_total 1\n');
    // The user's Prometheus: its own global interval (1m), the stack's jobs inlined (Debian's 2.42 has no
    // scrape_config_files), pods found through file_sd with the labels Kubernetes would give them.
    const template = deployment.spec.template;
    const target = podTarget({
      ip: '127.0.0.1', port: app.port, namespace: 'demo', pod: 'demo-app-7c9d8f6b5-x2x9q', container: 'app', node: 'kind-worker',
      labels: template.metadata.labels, annotations: { ...template.metadata.annotations, 'prometheus.io/port': String(app.port) },
    });
    const { config, files } = withFileSd({ global: { scrape_interval: '1m', scrape_timeout: '30s' }, scrape_configs: jobs.filter((j: any) => j.job_name === KUBERNETES_PODS_JOB) }, { [KUBERNETES_PODS_JOB]: [target] });
    expect(promtoolCheckConfig(stringify(config), files)).toMatchObject({ ok: true });
    prom = await startPrometheus({ config: stringify(config), files });
  }, 60_000);
  afterAll(async () => { await prom?.stop(); await app?.close(); });

  test('the pod\'s target carries the label contract and is scraped at the stack\'s interval, not the global one', async () => {
    const active = await prom.waitFor(async () => (await prom.targets()).activeTargets.find((t) => t.labels.job === KUBERNETES_PODS_JOB), 20_000, 'the pod target');
    expect(active.scrapeInterval).toBe('15s');
    expect(active.scrapeTimeout).toBe('10s');
    for (const label of CONTRACT_LABELS) expect({ label, value: active.labels[label] }).toEqual({ label, value: expect.stringMatching(/.+/) });
    expect(active.labels).toMatchObject({ namespace: 'demo', app: 'demo-app', pod: 'demo-app-7c9d8f6b5-x2x9q', container: 'app' });
  });
});
