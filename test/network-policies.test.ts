/**
 * The stack's NetworkPolicies, judged by what they let through: from the synthesized objects (cdk8s, and the chart
 * with the real helm), every workload's pods and the policies become a cluster for the NetworkPolicy evaluator
 * (test/support/network-policy.ts); the full matrix of which source can open which port of which workload must
 * equal the intended one exactly. Sources: every workload, people outside the cluster, a pod of another namespace,
 * a pod of another namespace that copies Prometheus's labels, and an unlabeled pod in each of the stack's namespaces.
 *
 * Separately, and without the intended matrix: every connection the stack's own configuration makes (each URL in a
 * config file, an env variable or a command; each scrape the Prometheus config asks for) must be allowed, so a
 * policy that blocks the log agent's push or a scrape fails here whatever the matrix says.
 */
import * as fs from 'fs';
import * as path from 'path';
import { parse } from 'yaml';
import { StackInput } from '../lib';
import { LOKI_RING_INPUT, synthObjects, workloads } from './helpers/stack';
import { isTestHook, ROOT, scenario, templateScenario } from './helm-support';
import { allowed, Cluster, External, Pod } from './support/network-policy';

const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';

interface Endpoint { readonly id: string; readonly at: Pod | External }

/** The cluster the objects make: their namespaces (plus `default` and, for Helm, the release's), pods and policies. */
function clusterOf(objects: any[], extraNamespaces: string[]): { cluster: Cluster; pods: Array<Pod & { spec: any; annotations: Record<string, string> }> } {
  const names = new Set([...objects.filter((o) => o.kind === 'Namespace').map((o) => o.metadata.name), ...extraNamespaces, 'default']);
  // The API server labels every namespace with its name (Kubernetes 1.21+).
  const namespaces = [...names].map((name) => ({ name, labels: { ...(objects.find((o) => o.kind === 'Namespace' && o.metadata.name === name)?.metadata.labels ?? {}), [NAMESPACE_NAME_LABEL]: name } }));
  // Several pods one by one (loki-0, loki-1, …; grafana-0, … on PostgreSQL): they talk to each other. One pod otherwise.
  const podObjects = [...workloads(objects).flatMap((w) => ((w.kind === 'StatefulSet' || w.kind === 'Deployment') && (w.spec.replicas ?? 1) > 1
    ? Array.from({ length: w.spec.replicas }, (_, i) => ({ name: `${w.metadata.name}-${i}`, namespace: w.metadata.namespace, template: w.spec.template }))
    : [{ name: w.metadata.name, namespace: w.metadata.namespace, template: w.spec.template }])),
    ...objects.filter((o) => o.kind === 'Pod').map((p) => ({ name: p.metadata.name, namespace: p.metadata.namespace, template: p }))];
  const pods = podObjects.map((w, i) => ({
    name: w.name,
    namespace: w.namespace,
    labels: w.template.metadata.labels ?? {},
    annotations: w.template.metadata.annotations ?? {},
    hostNetwork: w.template.spec.hostNetwork === true,
    ip: w.template.spec.hostNetwork ? '172.18.0.2' : `10.244.0.${10 + i}`,
    ports: w.template.spec.containers.flatMap((c: any) => c.ports ?? []),
    spec: w.template.spec,
  }));
  return { cluster: { namespaces, policies: objects.filter((o) => o.kind === 'NetworkPolicy') }, pods };
}

/**
 * A pod of the user's, unlabelled, in each of the stack's namespaces, serving on 8080: the stack's default deny
 * selects the stack's pods only, so these keep every connection, in and out.
 */
function strangersIn(stackNamespaces: string[]): Pod[] {
  return stackNamespaces.map((ns, i) => ({ name: `stranger-in-${ns}`, namespace: ns, labels: { app: 'stranger' }, ip: `10.244.8.${i + 1}`, ports: [{ containerPort: 8080 }] }));
}

/** Everyone who might knock: the stack's pods, the strangers in its namespaces, and strangers elsewhere. */
function sourcesOf(pods: Pod[], prometheusLabels: Record<string, string>): Endpoint[] {
  return [
    ...pods.map((p) => ({ id: p.name, at: p })),
    { id: 'outside', at: { ip: '203.0.113.7' } },
    { id: 'pod-in-default', at: { name: 'other', namespace: 'default', labels: { app: 'other' }, ip: '10.244.9.1' } },
    { id: 'prometheus-impostor-in-default', at: { name: 'impostor', namespace: 'default', labels: prometheusLabels, ip: '10.244.9.2' } },
  ];
}

/** A port as the matrix names it: `3100`, or `9094/UDP` for another protocol than TCP. */
const portName = (p: { containerPort: number; protocol?: string }) => (p.protocol && p.protocol !== 'TCP' ? `${p.containerPort}/${p.protocol}` : `${p.containerPort}`);

/** "destination:port ← source" for every connection that opens. */
function matrix(cluster: Cluster, pods: Pod[], sources: Endpoint[]): string[] {
  const out: string[] = [];
  for (const to of pods) {
    for (const port of to.ports ?? []) {
      for (const from of sources) if (allowed(cluster, from.at, to, port.containerPort, (port.protocol ?? 'TCP') as 'TCP' | 'UDP')) out.push(`${to.name}:${portName(port)} ← ${from.id}`);
    }
  }
  return out.sort();
}

/** The intended matrix: destination:port → who may open it (every source, or a list). Ports not listed: nobody. */
type Intended = Record<string, 'everyone' | string[]>;

function expand(intended: Intended, pods: Pod[], sources: Endpoint[]): string[] {
  const out = new Set<string>();
  for (const to of pods) {
    for (const port of to.ports ?? []) {
      const who = intended[`${to.name}:${portName(port)}`] ?? [];
      // A pod's connections to its own address never leave it: open whatever the policies say.
      for (const from of [to.name, ...(who === 'everyone' ? sources.map((s) => s.id) : who)]) out.add(`${to.name}:${portName(port)} ← ${from}`);
    }
  }
  return [...out].sort();
}

const PROMETHEUS_SELECTOR = { 'app.kubernetes.io/name': 'prometheus', 'app.kubernetes.io/part-of': 'observability-stack' };

/** The default stack's intended matrix; node-exporter is on the host's network, which no NetworkPolicy covers. */
function intendedFor(o: { logAgent?: string; logAgentPort?: number; grafana?: boolean; app?: string; appPort?: number; helmTests?: boolean } = {}): Intended {
  const agent = o.logAgent ?? 'promtail';
  const grafana = o.grafana === false ? [] : ['grafana'];
  const app = o.app ?? 'demo-app';
  return {
    'prometheus:9090': [...grafana, ...(o.helmTests ? ['prometheus-test-ready'] : [])],
    'kube-state-metrics:8080': ['prometheus'],
    'kube-state-metrics:8081': [],
    'node-exporter:9100': 'everyone',
    [`${app}:${o.appPort ?? 8080}`]: 'everyone',
    [`${app}-traffic:8081`]: [],
    'loki:3100': ['prometheus', ...grafana, agent],
    'loki:9095': [],
    [`${agent}:${o.logAgentPort ?? 3101}`]: ['prometheus'],
    'alertmanager:9093': ['prometheus', ...grafana],
    ...(o.grafana === false ? {} : { 'grafana:3000': 'everyone' as const }),
  };
}

/** The stack's namespaces: where its workloads run. */
const namespacesOf = (pods: Pod[]) => [...new Set(pods.map((p) => p.namespace))].sort();

function check(objects: any[], intended: Intended, extraNamespaces: string[] = []) {
  const { cluster, pods: stackPods } = clusterOf(objects, extraNamespaces);
  const strangers = strangersIn(namespacesOf(stackPods));
  const pods = [...stackPods, ...strangers];
  const sources = sourcesOf(pods, PROMETHEUS_SELECTOR);
  const everyoneToStrangers = Object.fromEntries(strangers.map((p) => [`${p.name}:8080`, 'everyone' as const]));
  expect(matrix(cluster, pods, sources)).toEqual(expand({ ...intended, ...everyoneToStrangers }, pods, sources));
}

describe.each<[string, StackInput, Intended]>([
  ['defaults', {}, intendedFor()],
  ['Alloy as the log agent', { logAgent: { kind: 'alloy' } }, intendedFor({ logAgent: 'alloy', logAgentPort: 12345 })],
  ['Grafana off', { grafana: { enabled: false } }, intendedFor({ grafana: false })],
  ['the app in the stack\'s namespace, renamed, on another port', { app: { namespace: 'monitoring', name: 'shop', port: 9000 } }, intendedFor({ app: 'shop', appPort: 9000 })],
])('cdk8s, %s: the reachability matrix is exactly the intended one', (_name, input, intended) => {
  const objects = synthObjects(input);
  test('every source × every workload\'s every port', () => check(objects, intended));
});

test('cdk8s, a Prometheus of the user\'s (prometheus.enabled false): it gets in wherever the stack\'s would, from its namespace only', () => {
  const objects = synthObjects({ prometheus: { enabled: false, scraper: { namespace: 'kps' } }, grafana: { prometheusQuery: { url: 'http://mimir.mimir.svc:8080/prometheus' } } });
  // kube-prometheus-stack's Prometheus pod, as the Operator labels it: the name, none of the stack's labels.
  const theirs = {
    kind: 'Pod',
    metadata: { name: 'prometheus-kps-0', namespace: 'kps', labels: { 'app.kubernetes.io/name': 'prometheus', 'app.kubernetes.io/managed-by': 'prometheus-operator', 'operator.prometheus.io/name': 'kps' } },
    spec: { containers: [{ name: 'prometheus', ports: [{ containerPort: 9090 }] }] },
  };
  const { 'prometheus:9090': _ours, ...rest } = intendedFor();
  const intended: Intended = Object.fromEntries(Object.entries(rest).map(([to, who]) => [to, who === 'everyone' ? who : who.map((w) => (w === 'prometheus' ? theirs.metadata.name : w))]));
  // Its own port is its namespace's business: no policy of the stack's is there.
  intended['prometheus-kps-0:9090'] = 'everyone';
  check([...objects, theirs], intended, ['kps']);
});

test('cdk8s, three Loki pods: each one\'s gRPC and gossip ports open to the other two only, HTTP to its clients', () => {
  const loki = ['loki-0', 'loki-1', 'loki-2'];
  const { 'loki:3100': _http, 'loki:9095': _grpc, ...others } = intendedFor();
  const intended: Intended = { ...others };
  for (const pod of loki) {
    intended[`${pod}:3100`] = ['prometheus', 'grafana', 'promtail'];
    intended[`${pod}:9095`] = loki.filter((p) => p !== pod);
    intended[`${pod}:7946`] = loki.filter((p) => p !== pod);
  }
  check(synthObjects(LOKI_RING_INPUT), intended);
});

test('cdk8s, three Grafanas on PostgreSQL: alerting\'s gossip (9094, TCP and UDP) open to the other two only, 3000 to anyone', () => {
  const grafana = ['grafana-0', 'grafana-1', 'grafana-2'];
  const { 'grafana:3000': _ui, ...others } = intendedFor();
  const intended: Intended = { ...others };
  for (const pod of grafana) {
    intended[`${pod}:3000`] = 'everyone';
    intended[`${pod}:9094`] = grafana.filter((p) => p !== pod);
    intended[`${pod}:9094/UDP`] = grafana.filter((p) => p !== pod);
  }
  // Grafana's clients are each of its pods now.
  for (const key of ['prometheus:9090', 'loki:3100', 'alertmanager:9093'] as const) {
    intended[key] = [...(intended[key] as string[]).filter((p) => p !== 'grafana'), ...grafana];
  }
  check(synthObjects({ grafana: { replicas: 3, adminPasswordSecret: { name: 'grafana-admin', key: 'password' }, postgres: { enabled: true, host: 'pg.db.svc:5432', passwordSecret: { name: 'grafana-db' } } } }), intended);
});

test('cdk8s, networkPolicies.enabled false: no NetworkPolicy, and everyone reaches every port', () => {
  const objects = synthObjects({ networkPolicies: { enabled: false } });
  expect(objects.filter((o) => o.kind === 'NetworkPolicy')).toEqual([]);
  const { cluster, pods } = clusterOf(objects, []);
  const sources = sourcesOf(pods, PROMETHEUS_SELECTOR);
  const everything = Object.fromEntries(pods.flatMap((p) => (p.ports ?? []).map((port) => [`${p.name}:${port.containerPort}`, 'everyone' as const])));
  expect(matrix(cluster, pods, sources)).toEqual(expand(everything, pods, sources));
});

test('the chart (real helm, defaults, with its helm test pods): the same matrix, plus the test pod\'s check of Prometheus', () => {
  const s = scenario('01-defaults-values.yaml');
  check(templateScenario(s), intendedFor({ helmTests: true }), [s.namespace]);
});

test('the chart, Alloy scenario: the same matrix as cdk8s\'s', () => {
  const s = scenario('11-alloy-values.yaml');
  check(templateScenario(s).filter((o) => !isTestHook(o)), intendedFor({ logAgent: 'alloy', logAgentPort: 12345 }), [s.namespace]);
});

test('the chart, the app in the release namespace: one default deny serves both, the same matrix', () => {
  const s = scenario('16-app-in-release-namespace-values.yaml');
  const objects = templateScenario(s).filter((o) => !isTestHook(o));
  expect(objects.filter((o) => o.kind === 'NetworkPolicy' && o.metadata.name === 'default-deny-ingress').map((o) => o.metadata.namespace).sort()).toEqual([s.namespace, 'monitoring-agent'].sort());
  check(objects, intendedFor({ logAgent: 'alloy', logAgentPort: 12345, app: 'shop', appPort: 9000 }), [s.namespace]);
});

test('the chart without NetworkPolicies renders none', () => {
  expect(templateScenario(scenario('15-network-policies-off-values.yaml')).filter((o) => o.kind === 'NetworkPolicy')).toEqual([]);
});

// ---------------------------------------------------------------------------------------------------------------
// What the stack's own configuration needs, derived from it alone.

interface Need { readonly from: string; readonly to: string; readonly port: number; readonly why: string }

/** Every connection the configuration makes: URLs of in-cluster Services, and what Prometheus scrapes. */
function needs(objects: any[], extraNamespaces: string[] = []): Need[] {
  const { pods } = clusterOf(objects, extraNamespaces);
  const out: Need[] = [];
  const services = objects.filter((o) => o.kind === 'Service');
  const backend = (name: string, namespace: string, port: number) => {
    const svc = services.find((s) => s.metadata.name === name && s.metadata.namespace === namespace);
    if (!svc) throw new Error(`no Service ${namespace}/${name}`);
    const sp = svc.spec.ports.find((p: any) => p.port === port);
    const pod = pods.find((p) => p.namespace === namespace && Object.entries(svc.spec.selector).every(([k, v]) => p.labels[k] === v));
    if (!sp || !pod) throw new Error(`Service ${namespace}/${name}:${port} selects nothing`);
    const target = typeof sp.targetPort === 'string' ? pod.ports!.find((c) => c.name === sp.targetPort)!.containerPort : (sp.targetPort ?? port);
    return { pod: pod.name, port: target };
  };
  const urls = (text: string) => [...text.matchAll(/([a-z0-9-]+)\.([a-z0-9-]+)\.svc(?:\.[a-z0-9-]+)*:([0-9]+)/g)].map((m) => ({ name: m[1], namespace: m[2], port: Number(m[3]) }));
  for (const p of pods) {
    const configMaps = (p.spec.volumes ?? []).filter((v: any) => v.configMap).map((v: any) => objects.find((o) => o.kind === 'ConfigMap' && o.metadata.namespace === p.namespace && o.metadata.name === v.configMap.name));
    const texts = [
      ...configMaps.flatMap((c: any) => Object.values(c.data ?? {}) as string[]),
      ...p.spec.containers.flatMap((c: any) => [...(c.command ?? []), ...(c.args ?? []), ...(c.env ?? []).map((e: any) => e.value ?? '')]),
    ];
    for (const u of texts.flatMap(urls)) {
      const b = backend(u.name, u.namespace, u.port);
      out.push({ from: p.name, to: b.pod, port: b.port, why: `${u.name}.${u.namespace}:${u.port} in its configuration` });
    }
    if (p.annotations['prometheus.io/scrape'] === 'true') out.push({ from: 'prometheus', to: p.name, port: Number(p.annotations['prometheus.io/port']), why: 'its prometheus.io/* annotations' });
  }
  // The Prometheus jobs that keep pods by name and port name.
  const promConfig = parse(objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === 'prometheus-config').data['prometheus.yml']);
  for (const job of promConfig.scrape_configs) {
    for (const r of job.relabel_configs ?? []) {
      if (r.action === 'keep' && JSON.stringify(r.source_labels) === JSON.stringify(['__meta_kubernetes_pod_label_app_kubernetes_io_name', '__meta_kubernetes_pod_container_port_name'])) {
        const [name, portName] = r.regex.split(';');
        const pod = pods.find((p) => p.labels['app.kubernetes.io/name'] === name)!;
        out.push({ from: 'prometheus', to: pod.name, port: pod.ports!.find((c) => c.name === portName)!.containerPort, why: `job ${job.job_name}` });
      }
    }
  }
  return out;
}

describe.each<[string, StackInput, string | undefined]>([
  ['cdk8s, defaults', {}, undefined],
  ['cdk8s, Alloy', { logAgent: { kind: 'alloy' } }, undefined],
  ['cdk8s, Grafana off, app renamed in the stack\'s namespace, another cluster domain', { grafana: { enabled: false }, app: { namespace: 'monitoring', name: 'shop', port: 9000 }, clusterDomain: 'k8s.example.internal' }, undefined],
  ['the chart, defaults (with its helm test pods)', {}, '01-defaults-values.yaml'],
  ['the chart, the app in the release namespace, Alloy', { logAgent: { kind: 'alloy' } }, '16-app-in-release-namespace-values.yaml'],
])('%s: every connection the configuration makes is allowed', (_name, input, chartScenario) => {
  const s = chartScenario ? scenario(chartScenario) : undefined;
  const objects = s ? templateScenario(s) : synthObjects(input);
  const extra = s ? [s.namespace] : [];
  const { cluster, pods } = clusterOf(objects, extra);
  const list = needs(objects, extra);

  test('the needs found cover the log agent\'s push, Grafana\'s data sources, the alerts and every scrape', () => {
    const agent = input.logAgent?.kind ?? 'promtail';
    expect(list.map((n) => `${n.from}→${n.to}`)).toEqual(expect.arrayContaining([`${agent}→loki`, 'prometheus→alertmanager', 'prometheus→prometheus', 'prometheus→kube-state-metrics', 'prometheus→node-exporter', `prometheus→${agent}`]));
    if (input.grafana?.enabled !== false) expect(list.map((n) => `${n.from}→${n.to}`)).toEqual(expect.arrayContaining(['grafana→prometheus', 'grafana→loki', 'grafana→alertmanager']));
  });

  test('each is allowed by the policies', () => {
    const blocked = list.filter((n) => !allowed(cluster, pods.find((p) => p.name === n.from)!, pods.find((p) => p.name === n.to)!, n.port));
    expect(blocked).toEqual([]);
  });
});

test('the needs check fails on a policy that blocks the log agent (Loki\'s policy without it)', () => {
  const objects = synthObjects({});
  const loki = objects.find((o) => o.kind === 'NetworkPolicy' && o.metadata.name === 'loki');
  loki.spec.ingress[0].from = loki.spec.ingress[0].from.filter((p: any) => p.podSelector.matchLabels['app.kubernetes.io/name'] !== 'promtail');
  const { cluster, pods } = clusterOf(objects, []);
  const blocked = needs(objects).filter((n) => !allowed(cluster, pods.find((p) => p.name === n.from)!, pods.find((p) => p.name === n.to)!, n.port));
  expect(blocked.map((n) => `${n.from}→${n.to}:${n.port}`)).toEqual(['promtail→loki:3100']);
});

describe('README: the policy a user copies into their own namespace', () => {
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const block = [...readme.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => parse(m[1])).find((d) => d?.metadata?.name === 'allow-prometheus-scrape');
  // The user's namespace denies all ingress by a policy of their own, and runs their app on 9102 (and 8080).
  const userNamespace = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'my-app' } };
  const userDeny = { kind: 'NetworkPolicy', metadata: { name: 'deny-all', namespace: 'my-app' }, spec: { podSelector: {}, policyTypes: ['Ingress'] } };
  const userApp = { kind: 'Deployment', metadata: { name: 'my-app', namespace: 'my-app' }, spec: { template: { metadata: { labels: { 'app.kubernetes.io/name': 'my-app' } }, spec: { containers: [{ ports: [{ containerPort: 9102 }, { containerPort: 8080 }] }] } } } };
  const reach = (objects: any[], from: string, port: number, extra: string[] = []) => {
    const { cluster, pods } = clusterOf(objects, extra);
    return allowed(cluster, pods.find((p) => p.name === from)!, pods.find((p) => p.name === 'my-app')!, port);
  };

  test('is in the README, in the namespace and for the labels it names', () => {
    expect(block).toMatchObject({ kind: 'NetworkPolicy', metadata: { namespace: 'my-app' } });
  });

  test('with it, Prometheus (cdk8s or the chart\'s) scrapes 9102 and nothing else gets in; without it, Prometheus cannot', () => {
    const stack = [...synthObjects({}), userNamespace, userDeny, userApp];
    expect(reach([...stack, block], 'prometheus', 9102)).toBe(true);
    expect(reach([...stack, block], 'prometheus', 8080)).toBe(false);
    expect(reach([...stack, block], 'grafana', 9102)).toBe(false);
    expect(reach(stack, 'prometheus', 9102)).toBe(false);
    const s = scenario('01-defaults-values.yaml');
    const chart = [...templateScenario(s).filter((o) => !isTestHook(o)), userNamespace, userDeny, userApp];
    expect(reach([...chart, block], 'prometheus', 9102, [s.namespace])).toBe(true);
    expect(reach(chart, 'prometheus', 9102, [s.namespace])).toBe(false);
  });
});
