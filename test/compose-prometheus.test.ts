/**
 * compose/prometheus/prometheus.yml, checked with the real Prometheus 2.42 from Debian: promtool accepts it
 * with its rule file, and the real binary scrapes the real demo app (createApp from app/src/app.ts) and the
 * other services (stand-ins serving /metrics) once their compose service names point at loopback. The
 * scraped series carry the label contract with the values Promtail gives the same containers' logs
 * (test/compose-labels.test.ts compares the two).
 */
import * as http from 'http';
import type { AddressInfo } from 'net';
import { parse, stringify } from 'yaml';
import { createApp } from '../app/src/app';
import { createLogger } from '../app/src/logger';
import {
  COMPOSE_FILES,
  composeContractLabels,
  CONTRACT_LABELS,
  parseStackConfig,
  PROMETHEUS_RULES_DIR,
  renderAlertRules,
  renderCompose,
  renderComposePrometheusConfig,
  renderKubernetesPrometheusConfig,
  RULES_FILE,
  StackInput,
} from '../lib';
import { promtoolCheckConfig, promtoolTestRules, RunningPrometheus, serveMetrics, startPrometheus } from './support/prometheus';
import { RunningNodeExporter, startNodeExporter } from './support/node-exporter';
import { DockerContainer, dockerCadvisorExposition } from './support/cadvisor-docker';

/** The rule file is mounted at /etc/prometheus/rules in the container; here it lives next to prometheus.yml. */
function localRules(config: any): any {
  expect(config.rule_files).toEqual([`${PROMETHEUS_RULES_DIR}/*.yaml`]);
  return { ...config, rule_files: ['rules/*.yaml'] };
}

/** The committed-to-be prometheus.yml and rule file for a stack (what `npm run synth` writes into compose/). */
function composeFiles(input: StackInput = {}): { config: any; configYaml: string; rulesYaml?: string } {
  const files = renderCompose(parseStackConfig(input));
  const configYaml = files.get(COMPOSE_FILES.prometheusConfig)!;
  return { config: parse(configYaml), configYaml, rulesYaml: files.get(COMPOSE_FILES.prometheusRules) };
}

describe('compose prometheus.yml', () => {
  test('is the compose renderer\'s output, with the Kubernetes config\'s global section and rule file', () => {
    const c = parseStackConfig({});
    const { config } = composeFiles();
    expect(config).toEqual(renderComposePrometheusConfig(c));
    const kubernetes = renderKubernetesPrometheusConfig(c.prometheus);
    expect(config.global).toEqual(kubernetes.global);
    expect(config.rule_files).toEqual(kubernetes.rule_files);
    expect(config.remote_write).toEqual(kubernetes.remote_write);
  });

  test('scrapes every service of the stack by its compose service name', () => {
    const { config } = composeFiles();
    expect(config.scrape_configs.map((j: any) => [j.job_name, j.metrics_path, j.static_configs[0].targets])).toEqual([
      ['prometheus', '/metrics', ['prometheus:9090']],
      ['demo-app', '/metrics', ['demo-app:8080']],
      ['loki', '/metrics', ['loki:3100']],
      ['promtail', '/metrics', ['promtail:3101']],
      ['alertmanager', '/metrics', ['alertmanager:9093']],
      ['grafana', '/metrics', ['grafana:3000']],
      ['node-exporter', '/metrics', ['node-exporter:9100']],
      ['cadvisor', '/metrics', ['cadvisor:8080']],
    ]);
  });

  test('passes promtool check config, rule file included', () => {
    const { config, rulesYaml } = composeFiles();
    const result = promtoolCheckConfig(stringify(localRules(config)), { [`rules/${RULES_FILE}`]: rulesYaml! });
    expect(result.output).toContain('SUCCESS: 1 rule files found');
    expect(result.ok).toBe(true);
  });

  test('a customised stack (other app, remote_write, no rules) passes promtool too', () => {
    const { config, rulesYaml } = composeFiles({
      app: { name: 'shop', port: 9000, metricsPath: '/internal/metrics' },
      prometheus: { alertRules: false, remoteWrite: [{ name: 'mimir', url: 'https://mimir.example.com/api/v1/push' }] },
    });
    expect(rulesYaml).toBeUndefined();
    expect(config.rule_files).toBeUndefined();
    expect(config.scrape_configs[1]).toMatchObject({ job_name: 'shop', metrics_path: '/internal/metrics', static_configs: [{ targets: ['shop:9000'] }] });
    const result = promtoolCheckConfig(stringify(config));
    expect(result.output).toContain('SUCCESS');
    expect(result.ok).toBe(true);
  });

  test('the promtool check can fail: a Prometheus 3-only key is rejected', () => {
    const { config } = composeFiles();
    const broken = { ...config, scrape_configs: [{ ...config.scrape_configs[0], fallback_scrape_protocol: 'PrometheusText0.0.4' }] };
    const result = promtoolCheckConfig(stringify(broken));
    expect(result.ok).toBe(false);
    expect(result.output).toContain('fallback_scrape_protocol');
  });
});

describe('a user\'s app in compose.apps, scraped by the real Prometheus with the compose config', () => {
  const input: StackInput = {
    prometheus: { scrapeIntervalSeconds: 1, scrapeTimeoutSeconds: 1, evaluationIntervalSeconds: 1 },
    compose: { apps: [{ name: 'web', project: 'shop', port: 9102 }] },
  };
  let prometheus: RunningPrometheus;
  let app: { port: number; close: () => Promise<void> };

  beforeAll(async () => {
    app = await serveMetrics('# TYPE orders_total counter\norders_total 7\n');
    const { config } = composeFiles(input);
    const job = config.scrape_configs.find((j: any) => j.job_name === 'shop/web');
    // By its container's name, unique on the host: two projects' `web` services would share the service name.
    expect(job.static_configs[0].targets).toEqual(['shop-web-1:9102']);
    const two = composeFiles({ compose: { apps: [{ name: 'web', project: 'shop', port: 9102 }, { name: 'web', project: 'blog', port: 9102 }] } }).config.scrape_configs;
    expect(two.filter((j: any) => j.job_name.endsWith('/web')).map((j: any) => j.static_configs[0].targets[0])).toEqual(['shop-web-1:9102', 'blog-web-1:9102']);
    expect(job.metrics_path).toBe('/metrics');
    // Another path is the app's to say.
    expect(composeFiles({ compose: { apps: [{ name: 'web', project: 'shop', port: 9102, metricsPath: '/prometheus' }] } }).config.scrape_configs.find((j: any) => j.job_name === 'shop/web').metrics_path).toBe('/prometheus');
    // Docker's DNS gives the container's name its address on the shared network; here it is loopback.
    job.static_configs[0].targets = [`127.0.0.1:${app.port}`];
    config.scrape_configs = [job];
    delete config.rule_files;
    delete config.alerting;
    prometheus = await startPrometheus({ config: stringify(config) });
  });
  afterAll(async () => {
    await prometheus?.stop();
    await app?.close();
  });

  test('its series carry the contract\'s labels: namespace = its project, app = its service, pod = container = its container', async () => {
    const series = await prometheus.queryUntilData('orders_total', 30000, 'the user app\'s series');
    const { __name__, job, instance, ...contract } = series[0].metric;
    expect([job, instance]).toEqual(['shop/web', `127.0.0.1:${app.port}`]);
    expect(contract).toEqual({ namespace: 'shop', app: 'web', pod: 'shop-web-1', container: 'shop-web-1', node: 'docker-host' });
    expect(Object.keys(contract).sort()).toEqual([...CONTRACT_LABELS].sort());
  });

  test('cAdvisor\'s job keeps its project\'s containers too', () => {
    const { config } = composeFiles(input);
    const keep = config.scrape_configs.find((j: any) => j.job_name === 'cadvisor').metric_relabel_configs[0];
    expect(keep).toMatchObject({ regex: 'observability|shop', action: 'keep' });
  });
});

/** The docker host: two containers of the stack's project, one of another project, one started by hand. */
const DOCKER_CONTAINERS: DockerContainer[] = [
  { name: 'observability-demo-app', image: 'demo-app:0.1.0', project: 'observability', service: 'demo-app', cpuLimit: true },
  { name: 'observability-prometheus', image: 'prom/prometheus:v3.14.0', project: 'observability', service: 'prometheus', cpuLimit: true },
  { name: 'shop-web-1', image: 'nginx:1.27', project: 'shop', service: 'web', cpuLimit: true },
  { name: 'hopeful_turing', image: 'busybox:1.37' },
];

test('cAdvisor down on compose is a stack component down (critical), not a kubelet (promtool test rules)', () => {
  const c = parseStackConfig({});
  const files = renderCompose(c);
  const job = parse(files.get(COMPOSE_FILES.prometheusConfig)!).scrape_configs.find((j: any) => j.job_name === 'cadvisor');
  const labels = { ...job.static_configs[0].labels, job: 'cadvisor', instance: job.static_configs[0].targets[0] };
  const series = `up{${Object.entries(labels).map(([k, v]) => `${k}="${v}"`).join(',')}}`;
  const tests = [{
    interval: '1m',
    input_series: [{ series, values: '0x20' }],
    alert_rule_test: [
      { eval_time: '16m', alertname: 'KubeletDown', exp_alerts: [] },
      { eval_time: '6m', alertname: 'StackComponentDown', exp_alerts: [{
        exp_labels: { ...labels, severity: 'critical' },
        exp_annotations: {
          summary: 'cadvisor (observability/observability-cadvisor) of the stack cannot be scraped',
          description: 'Prometheus has failed to scrape cadvisor:8080 for 5 minutes: the stack\'s own cadvisor is down or unreachable.',
          runbook: 'First: the pod\'s state and its last restart reason (kubectl -n observability describe pod observability-cadvisor; on compose, docker compose ps and logs cadvisor).',
        },
      }] },
    ],
  }];
  const result = promtoolTestRules(stringify({ rule_files: [RULES_FILE], evaluation_interval: '1m', tests }), { [RULES_FILE]: files.get(COMPOSE_FILES.prometheusRules)! });
  expect(result.output).toContain('SUCCESS');
  expect(result.ok).toBe(true);
});

describe('end to end: the real Prometheus scrapes the real app with the compose config', () => {
  // Same settings as the defaults, but scraping every second so the test does not wait 15 s.
  const input: StackInput = { prometheus: { scrapeIntervalSeconds: 1, scrapeTimeoutSeconds: 1, evaluationIntervalSeconds: 1 } };
  const c = parseStackConfig(input);
  let prometheus: RunningPrometheus;
  let appServer: http.Server;
  let appPort = 0;
  let nodeExporter: RunningNodeExporter;
  const standIns: Array<{ port: number; close: () => Promise<void> }> = [];
  /** compose service name → the loopback address that stands in for it. */
  const addressOf = new Map<string, string>();

  beforeAll(async () => {
    const demo = createApp({ logger: createLogger({ level: 'silent' }) });
    appServer = http.createServer(demo.listener);
    await new Promise<void>((resolve) => appServer.listen(0, '127.0.0.1', resolve));
    appPort = (appServer.address() as AddressInfo).port;
    for (let i = 0; i < 3; i++) await (await fetch(`http://127.0.0.1:${appPort}/`)).text();

    const { config, rulesYaml } = composeFiles(input);
    for (const job of config.scrape_configs) {
      const [target] = job.static_configs[0].targets as string[];
      const service = target.split(':')[0];
      if (service === c.app.name) {
        addressOf.set(service, `127.0.0.1:${appPort}`);
      } else if (service === 'cadvisor') {
        const started = Date.now();
        const standIn = await serveMetrics(() => dockerCadvisorExposition(DOCKER_CONTAINERS, (Date.now() - started) / 1000));
        standIns.push(standIn);
        addressOf.set(service, `127.0.0.1:${standIn.port}`);
      } else if (service === 'node-exporter') {
        // The real node-exporter, with the compose service's command as the container gets it (compose turns `$$` into `$`).
        const compose = parse(renderCompose(c).get(COMPOSE_FILES.compose)!);
        nodeExporter = await startNodeExporter(compose.services['node-exporter'].command.map((a: string) => a.replace(/\$\$/g, '$')));
        addressOf.set(service, nodeExporter.address);
      } else {
        const standIn = await serveMetrics(`# TYPE stand_in_info gauge\nstand_in_info{service="${service}"} 1\n`);
        standIns.push(standIn);
        addressOf.set(service, `127.0.0.1:${standIn.port}`);
      }
      // Docker's DNS gives <service> the container's address; here it is the stand-in's.
      job.static_configs[0].targets = [addressOf.get(service)];
    }
    prometheus = await startPrometheus({ config: stringify(localRules(config)), files: { [`rules/${RULES_FILE}`]: rulesYaml! } });
  });

  afterAll(async () => {
    await prometheus?.stop();
    await nodeExporter?.stop();
    for (const s of standIns) await s.close();
    await new Promise<void>((resolve) => {
      if (!appServer) return resolve();
      appServer.close(() => resolve());
      appServer.closeAllConnections();
    });
  });

  test('every service is up (up == 1 for all eight jobs)', async () => {
    const up = await prometheus.waitFor(async () => {
      const r = await prometheus.query('up == 1');
      return r.length === 8 ? r : undefined;
    }, 30000, 'up == 1 for all eight compose services');
    expect(up.map((s) => s.metric.job).sort()).toEqual(['alertmanager', 'cadvisor', 'demo-app', 'grafana', 'loki', 'node-exporter', 'prometheus', 'promtail']);
  });

  test('cAdvisor\'s series carry the contract\'s labels of the container they describe, the log agent\'s values; other projects\' and the root cgroup\'s are dropped', async () => {
    const cpu = await prometheus.queryUntilData('container_cpu_usage_seconds_total{job="cadvisor"}', 30000, 'cAdvisor series');
    const byApp = Object.fromEntries(cpu.map((s) => {
      const { __name__, job, instance, cpu: _cpu, image, ...contract } = s.metric;
      expect([job, instance]).toEqual(['cadvisor', addressOf.get('cadvisor')]);
      return [contract.app, { image, contract }];
    }));
    expect(Object.keys(byApp).sort()).toEqual(['demo-app', 'prometheus']);
    for (const service of ['demo-app', 'prometheus']) {
      // Exactly the contract's labels, equal to what the log agent gives the same container's logs.
      expect(byApp[service].contract).toEqual(composeContractLabels(c, service));
    }
    expect(byApp['demo-app'].image).toBe('demo-app:0.1.0');
    // Nothing else of cAdvisor's reaches Prometheus: no machine_* series, no container_label_*, no id.
    const names = await (await fetch(`${prometheus.url}/api/v1/label/__name__/values?match[]={job="cadvisor"}`)).json() as { data: string[] };
    expect(names.data.filter((n) => !/^(container_|up$|scrape_)/.test(n))).toEqual([]);
    const labels = await (await fetch(`${prometheus.url}/api/v1/labels?match[]={job="cadvisor"}`)).json() as { data: string[] };
    expect(labels.data.filter((l) => /^container_label_|^id$/.test(l))).toEqual([]);
    // cAdvisor's own target is a stack component: its `up` carries its own container's labels.
    expect((await prometheus.query('up{job="cadvisor"}')).map((s) => s.metric.app)).toEqual(['cadvisor']);
  });

  test('every query of the Containers dashboard as compose provisions it returns the containers\' data', async () => {
    const d = JSON.parse(renderCompose(c).get(`${COMPOSE_FILES.grafanaDashboardsDir}/containers.json`)!);
    expect(d.templating.list.map((v: any) => v.name)).toEqual(['namespace', 'pod']);
    const exprs: string[] = d.panels.flatMap((p: any) => (p.targets ?? []).map((t: any) => t.expr));
    expect(exprs.length).toBe(5);
    const pods = '(observability-demo-app|observability-prometheus)';
    for (const expr of exprs) {
      const q = expr.replace(/\$namespace/g, 'observability').replace(/\$pod/g, pods).replace(/\$__rate_interval/g, '10s');
      const r = await prometheus.waitFor(async () => {
        const res = await prometheus.query(q);
        return res.length === 2 ? res : undefined;
      }, 20_000, `two pods for ${q}`);
      expect(r.map((x) => x.metric.pod).sort()).toEqual(['observability-demo-app', 'observability-prometheus']);
    }
    // The namespace variable lists the project.
    const variable = /^label_values\((.+), (\w+)\)$/.exec(d.templating.list[0].query.query)!;
    const res = await fetch(`${prometheus.url}/api/v1/label/${variable[2]}/values?match[]=${encodeURIComponent(variable[1])}`);
    expect(((await res.json()) as { data: string[] }).data).toEqual(['observability']);
  });

  test('node-exporter (the real one, with the compose flags) describes the host: node and instance name it, disks only, no network of its own container', async () => {
    const filesystems = await prometheus.queryUntilData('node_filesystem_size_bytes', 30000, 'node_filesystem_size_bytes from node-exporter');
    for (const f of filesystems) {
      const { __name__, job, instance, node, device, mountpoint, fstype, ...rest } = f.metric;
      expect([job, instance, node]).toEqual(['node-exporter', 'docker-host', 'docker-host']);
      // Only the labels of the series: no contract labels of the exporter's own container.
      expect(Object.keys(rest).filter((k) => k !== 'device_error')).toEqual([]);
      // The kernel's and the containers' file systems are left out.
      expect([mountpoint, /^\/(dev|proc|sys|run\/containerd\/.+|run\/docker\/.+|var\/lib\/docker\/.+|var\/lib\/containerd\/.+|var\/lib\/kubelet\/.+)($|\/)/.test(mountpoint)]).toEqual([mountpoint, false]);
      expect([fstype, /^(overlay|proc|sysfs|tmpfs.*cgroup|cgroup2?|devpts|devtmpfs|mqueue|nsfs|tracefs)$/.test(fstype)]).toEqual([fstype, false]);
      expect(Number(f.value[1])).toBeGreaterThan(0);
    }
    // The root file system is there: statfs of / through --path.rootfs.
    expect(filesystems.map((f) => f.metric.mountpoint)).toContain('/');
    // CPU and memory of the host.
    expect(await prometheus.query('node_memory_MemTotal_bytes{instance="docker-host"} > 0')).toHaveLength(1);
    expect((await prometheus.query('node_cpu_seconds_total{mode="idle"}')).length).toBeGreaterThan(0);
    // The collectors of its own network namespace are off on compose.
    expect(await prometheus.query('node_network_receive_bytes_total')).toEqual([]);
    expect(await prometheus.query('{__name__=~"node_scrape_collector_success", collector=~"netdev|netstat|sockstat|arp|conntrack"}')).toEqual([]);
    // The Nodes dashboard as compose provisions it (no Network row): every query returns the host's data.
    const d = JSON.parse(renderCompose(c).get(`${COMPOSE_FILES.grafanaDashboardsDir}/nodes.json`)!);
    const exprs: string[] = d.panels.flatMap((p: any) => (p.targets ?? []).map((t: any) => t.expr));
    expect(exprs.length).toBe(9);
    for (const expr of exprs) {
      const q = expr.replace(/\$node/g, 'docker-host').replace(/\$__rate_interval/g, '10s');
      const r = await prometheus.queryUntilData(q, 20_000, `data for ${q}`);
      expect({ q, nodes: [...new Set(r.map((x) => x.metric.node))] }).toEqual({ q, nodes: ['docker-host'] });
    }
    // Every collector that runs succeeds with the flags (a bad regex or path would show here).
    const failed = await prometheus.query('node_scrape_collector_success == 0');
    expect(failed.map((s) => s.metric.collector)).toEqual(expect.not.arrayContaining(['filesystem', 'cpu', 'meminfo', 'diskstats', 'loadavg']));
  });

  test('the app\'s my_app_requests_total carries exactly the contract\'s labels, with the compose values', async () => {
    const series = await prometheus.queryUntilData('my_app_requests_total{route="/"}', 30000, 'my_app_requests_total from the demo app');
    expect(series).toHaveLength(1);
    const { __name__, job, instance, method, route, status_code, ...contract } = series[0].metric;
    expect([__name__, job, instance, method, route, status_code]).toEqual(['my_app_requests_total', 'demo-app', `127.0.0.1:${appPort}`, 'GET', '/', '200']);
    expect(Object.keys(contract).sort()).toEqual([...CONTRACT_LABELS].sort());
    expect(contract).toEqual({
      namespace: 'observability',
      pod: 'observability-demo-app',
      container: 'observability-demo-app',
      app: 'demo-app',
      node: 'docker-host',
    });
    expect(contract).toEqual(composeContractLabels(c, 'demo-app'));
    expect(Number(series[0].value[1])).toBeGreaterThanOrEqual(3);
  });

  test('each target carries its own container\'s contract labels', async () => {
    const { activeTargets } = await prometheus.targets();
    const byJob = Object.fromEntries(activeTargets.map((t) => {
      const { job, instance, ...labels } = t.labels;
      // node-exporter's target is the host, named as the contract names it.
      expect(instance).toBe(job === 'node-exporter' ? 'docker-host' : addressOf.get(job));
      return [job, labels];
    }));
    for (const service of ['prometheus', 'demo-app', 'loki', 'promtail', 'grafana', 'cadvisor']) {
      expect([service, byJob[service]]).toEqual([service, composeContractLabels(c, service)]);
    }
  });

  test('loads the stack\'s rule file', async () => {
    const res = await fetch(`${prometheus.url}/api/v1/rules`);
    const body = (await res.json()) as any;
    expect(body.data.groups.map((g: any) => g.name).sort()).toEqual(renderAlertRules({ nodeExporter: true, kubelet: true }).groups.map((g) => g.name).sort());
  });
});
