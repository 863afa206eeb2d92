/**
 * Parity between the two renderings, read from the committed files: dist/*.yaml (Kubernetes) and compose/.
 * What may differ is what a single docker host changes: addresses, discovery, how the password arrives, and
 * the host-only settings (published ports, Grafana's root URL). Everything else must be the same, so a change
 * to one rendering that is not made to the other fails here.
 */
import * as fs from 'fs';
import * as path from 'path';
import { parse, parseAllDocuments } from 'yaml';
import { COMPOSE_FILES, ComposeFile, ComposeService, CONTRACT_LABELS, IMAGES, imageString, parseStackConfig, renderAlertRules, renderCompose, StackInput } from '../lib';
import { find, synthObjects } from './helpers/stack';

const ROOT = path.resolve(__dirname, '..');

/** Every Kubernetes object in dist/*.yaml. */
function distObjects(): any[] {
  const dir = path.join(ROOT, 'dist');
  return fs.readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort().flatMap((f) =>
    parseAllDocuments(fs.readFileSync(path.join(dir, f), 'utf8')).map((d) => d.toJS()).filter(Boolean));
}

function composeFile(rel: string): string {
  return fs.readFileSync(path.join(ROOT, 'compose', rel), 'utf8');
}

const objects = distObjects();
const compose = parse(composeFile(COMPOSE_FILES.compose)) as ComposeFile;

/** The one object of a kind and name in dist/. */
function k8s(kind: string, name: string): any {
  const hits = objects.filter((o) => o.kind === kind && o.metadata?.name === name);
  if (hits.length !== 1) throw new Error(`expected one ${kind}/${name} in dist/, found ${hits.length}`);
  return hits[0];
}

/** A ConfigMap's file, parsed. */
function configMapFile(name: string, key: string): any {
  return parse(k8s('ConfigMap', name).data[key]);
}

/** Workloads with no compose counterpart: kube-state-metrics describes a cluster's objects, which one host has not. */
const KUBERNETES_ONLY = ['kube-state-metrics'];

/** The workloads in dist/ that compose mirrors, keyed by name: Deployments and DaemonSets. */
const workloads: Record<string, any> = Object.fromEntries(
  objects.filter((o) => ['Deployment', 'DaemonSet', 'StatefulSet'].includes(o.kind) && !KUBERNETES_ONLY.includes(o.metadata.name)).map((o) => [o.metadata.name, o]),
);

function mainContainer(name: string): any {
  return workloads[name].spec.template.spec.containers[0];
}

function envOf(container: any): Record<string, string> {
  return Object.fromEntries((container.env ?? []).filter((e: any) => 'value' in e).map((e: any) => [e.name, e.value]));
}

function service(name: string): ComposeService {
  const s = compose.services[name];
  if (!s) throw new Error(`no compose service ${name}`);
  return s;
}

describe('parity between dist/ and compose/', () => {
  test('the same components: one compose service per Kubernetes workload, under the same name', () => {
    // Less cAdvisor, compose only: on Kubernetes each node's kubelet serves its series.
    expect(Object.keys(compose.services).filter((n) => n !== 'cadvisor').sort()).toEqual(Object.keys(workloads).sort());
    expect(Object.keys(compose.services)).toContain('cadvisor');
  });

  test('the same images and tags, for every container of every workload, all pinned in lib/images.ts', () => {
    const pinned = new Set(Object.values(IMAGES).map(imageString));
    for (const [name, w] of Object.entries(workloads)) {
      const spec = w.spec.template.spec;
      for (const container of [...(spec.initContainers ?? []), ...spec.containers]) {
        expect([name, container.name, container.image]).toEqual([name, container.name, service(name).image]);
      }
      expect([name, pinned.has(service(name).image)]).toEqual([name, true]);
    }
  });

  test('the same Loki config: compose loki.yaml deep-equals the ConfigMap\'s', () => {
    expect(parse(composeFile(COMPOSE_FILES.lokiConfig))).toEqual(configMapFile('loki-config', 'loki.yaml'));
  });

  test('Loki runs the same way: config file flag, user, data directory', () => {
    const c = mainContainer('loki');
    expect(service('loki').command).toEqual(c.args);
    expect(service('loki').user).toBe(String(workloads.loki.spec.template.spec.securityContext.runAsUser));
    const dataMount = c.volumeMounts.find((m: any) => m.name === 'data').mountPath;
    expect(service('loki').volumes).toContain(`loki-data:${dataMount}`);
  });

  test('the same Grafana data sources except their URLs (service names instead of cluster DNS)', () => {
    const k = configMapFile('grafana-datasources', 'datasources.yaml');
    const d = parse(composeFile(COMPOSE_FILES.grafanaDatasources));
    const withoutUrls = (file: any) => ({ ...file, datasources: file.datasources.map(({ url: _url, ...rest }: any) => rest) });
    expect(withoutUrls(d)).toEqual(withoutUrls(k));
    expect(d.datasources.map((s: any) => [s.name, s.url])).toEqual([['Prometheus', 'http://prometheus:9090'], ['Loki', 'http://loki:3100'], ['Alertmanager', 'http://alertmanager:9093']]);
    expect(k.datasources.map((s: any) => s.url)).toEqual(['http://prometheus.monitoring.svc.cluster.local:9090', 'http://loki.monitoring.svc.cluster.local:3100', 'http://alertmanager.monitoring.svc.cluster.local:9093']);
  });

  test('the same Grafana dashboard provider, mounted at the same paths', () => {
    expect(parse(composeFile(COMPOSE_FILES.grafanaDashboardProvider))).toEqual(configMapFile('grafana-dashboard-providers', 'dashboards.yaml'));
    const k8sMounts = mainContainer('grafana').volumeMounts.map((m: any) => m.mountPath).sort();
    const composeTargets = (service('grafana').volumes ?? []).map((v) => v.split(':')[1]).sort();
    // /tmp is an emptyDir on Kubernetes and a tmpfs on compose.
    expect(composeTargets).toEqual(k8sMounts.filter((p: string) => p !== '/tmp'));
    expect(service('grafana').tmpfs).toEqual(['/tmp:size=256m']);
  });

  test('the same Grafana settings, except how the admin password arrives and the host-only root URL', () => {
    const k = envOf(mainContainer('grafana'));
    const { GF_SECURITY_ADMIN_PASSWORD__FILE: file, ...kSettings } = k;
    const { GF_SECURITY_ADMIN_PASSWORD: password, GF_SERVER_ROOT_URL: rootUrl, ...dSettings } = service('grafana').environment!;
    expect(dSettings).toEqual(kSettings);
    expect(file).toMatch(/^\//);
    expect(password).toMatch(/^\$\{GF_ADMIN_PASSWORD:\?/);
    expect(rootUrl).toBe('http://localhost:3000/');
  });

  test('the same Promtail server, positions and clients shape; only discovery and Loki\'s address differ', () => {
    const k = configMapFile('promtail-config', 'promtail.yaml');
    const d = parse(composeFile(COMPOSE_FILES.promtailConfig));
    expect(Object.keys(d)).toEqual(Object.keys(k));
    expect(d.server).toEqual(k.server);
    expect(d.positions).toEqual(k.positions);
    const withoutUrl = (clients: any[]) => clients.map(({ url: _url, ...rest }) => rest);
    expect(withoutUrl(d.clients)).toEqual(withoutUrl(k.clients));
    expect(d.clients.map((x: any) => x.url)).toEqual(['http://loki:3100/loki/api/v1/push']);
    expect(k.clients.map((x: any) => x.url)).toEqual(['http://loki.monitoring.svc.cluster.local:3100/loki/api/v1/push']);
    // Discovery differs; what the pipeline does after parsing the container runtime's format does not.
    const [kJob] = k.scrape_configs;
    const [dJob] = d.scrape_configs;
    expect(kJob.kubernetes_sd_configs).toBeDefined();
    expect(dJob.kubernetes_sd_configs).toBeUndefined();
    const kTail = kJob.pipeline_stages.filter((s: any) => !('cri' in s));
    expect(dJob.pipeline_stages.slice(-kTail.length)).toEqual(kTail);
  });

  test('Promtail runs the same way: config file flag, root for the log files, positions directory', () => {
    const c = mainContainer('promtail');
    expect(service('promtail').command).toEqual(c.args);
    expect(workloads.promtail.spec.template.spec.securityContext.runAsUser).toBe(0);
    expect(service('promtail').user).toBe('0:0');
    const positions = c.volumeMounts.find((m: any) => m.name === 'positions').mountPath;
    expect(service('promtail').volumes).toContain(`promtail-positions:${positions}`);
  });

  test('the same global Prometheus section, rule file and rules', () => {
    const k = configMapFile('prometheus-config', 'prometheus.yml');
    const d = parse(composeFile(COMPOSE_FILES.prometheusConfig));
    expect(d.global).toEqual(k.global);
    expect(d.rule_files).toEqual(k.rule_files);
    expect(d.remote_write).toEqual(k.remote_write);
    // The same rules but those that read kube-state-metrics' series (Kubernetes only).
    const kubernetesRules = configMapFile('prometheus-rules', 'stack-rules.yaml');
    expect(kubernetesRules).toEqual(renderAlertRules({ alertmanager: true, kubeStateMetrics: true, kubelet: true, nodeExporter: true }));
    // cAdvisor's container series on compose: the container alerts of the kubelet's series, without kube-state-metrics'.
    expect(parse(composeFile(COMPOSE_FILES.prometheusRules))).toEqual(renderAlertRules({ alertmanager: true, nodeExporter: true, kubelet: true, cadvisorComponent: true }));
    const names = (r: any) => r.groups.flatMap((g: any) => g.rules.map((x: any) => x.alert ?? x.record));
    expect(names(kubernetesRules).filter((n: string) => !names(parse(composeFile(COMPOSE_FILES.prometheusRules))).includes(n)).sort())
      .toEqual(['ContainerMemoryNearLimit', 'ContainerOOMKilled', 'KubePodCrashLooping', 'KubeStateMetricsDown', 'StackComponentNotReady', 'namespace_pod:app:info']);
  });

  test('Prometheus runs the same way: flags, user, data directory, port', () => {
    const c = mainContainer('prometheus');
    expect(service('prometheus').command).toEqual(c.args);
    expect(service('prometheus').user).toBe(`${workloads.prometheus.spec.template.spec.securityContext.runAsUser}:${workloads.prometheus.spec.template.spec.securityContext.runAsGroup}`);
    expect(service('prometheus').volumes).toContain(`prometheus-data:${c.volumeMounts.find((m: any) => m.name === 'data').mountPath}`);
  });

  test('the same container ports: Prometheus scrapes each service at the port its container serves on Kubernetes', () => {
    const d = parse(composeFile(COMPOSE_FILES.prometheusConfig));
    for (const job of d.scrape_configs.filter((j: any) => j.job_name !== 'cadvisor')) {
      const [, port] = job.static_configs[0].targets[0].split(':');
      const ports = mainContainer(job.job_name).ports.map((p: any) => p.containerPort);
      expect([job.job_name, ports.includes(Number(port))]).toEqual([job.job_name, true]);
      // And the label contract's names, on every target but node-exporter's, whose series describe the host:
      // `node` and `instance` name it, as each node's do on Kubernetes.
      const expected = job.job_name === 'node-exporter' ? ['instance', 'node'] : [...CONTRACT_LABELS].sort();
      expect([job.job_name, Object.keys(job.static_configs[0].labels).sort()]).toEqual([job.job_name, expected]);
    }
  });

  test('the app and its traffic generator run with the same settings; the target URL names the compose service', () => {
    const app = mainContainer('demo-app');
    expect(service('demo-app').environment).toEqual(envOf(app));
    expect(service('demo-app').user).toBe(String(workloads['demo-app'].spec.template.spec.securityContext.runAsUser));
    const traffic = mainContainer('demo-app-traffic');
    expect(service('demo-app-traffic').command).toEqual(traffic.command);
    const kEnv = envOf(traffic);
    const dEnv = service('demo-app-traffic').environment!;
    expect(dEnv.TRAFFIC_RPS).toBe(kEnv.TRAFFIC_RPS);
    expect(new URL(dEnv.TRAFFIC_TARGET_URL).port).toBe(new URL(kEnv.TRAFFIC_TARGET_URL).port);
    expect(dEnv.TRAFFIC_TARGET_URL).toBe('http://demo-app:8080');
  });

  test('the same resource limits (Kubernetes quantities in Docker units)', () => {
    const cpus = (q: string) => String(q.endsWith('m') ? Number(q.slice(0, -1)) / 1000 : Number(q));
    const memory = (q: string) => q.replace(/^(\d+)([KMG])i$/, (_m, n, u) => `${n}${u.toLowerCase()}`);
    for (const name of Object.keys(workloads)) {
      const limits = mainContainer(name).resources.limits;
      expect([name, service(name).deploy.resources.limits]).toEqual([name, { cpus: cpus(String(limits.cpu)), memory: memory(String(limits.memory)) }]);
    }
  });

  test.each<[string, StackInput]>([
    ['a pre-release Prometheus tag', { prometheus: { image: { tag: 'v3.15.0-rc.1' } }, grafana: { adminUser: 'ops' } }],
    ['no Loki', { loki: { enabled: false } }],
  ])('customised stacks keep the parity of Grafana\'s data sources and settings (%s)', (_name, input) => {
    const objects = synthObjects(input);
    const files = renderCompose(parseStackConfig(input));
    const withoutUrls = (file: any) => ({ ...file, datasources: file.datasources.map(({ url: _url, ...rest }: any) => rest) });
    const k = parse(find(objects, 'ConfigMap', 'grafana-datasources').data['datasources.yaml']);
    expect(withoutUrls(parse(files.get(COMPOSE_FILES.grafanaDatasources)!))).toEqual(withoutUrls(k));
    const grafana = find(objects, 'Deployment', 'grafana').spec.template.spec.containers[0];
    const { GF_SECURITY_ADMIN_PASSWORD__FILE: _file, ...kSettings } = envOf(grafana);
    const { GF_SECURITY_ADMIN_PASSWORD: _password, GF_SERVER_ROOT_URL: _root, ...dSettings } = parse(files.get(COMPOSE_FILES.compose)!).services.grafana.environment;
    expect(dSettings).toEqual(kSettings);
  });
});
