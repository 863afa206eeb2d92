/**
 * Parity of the Helm chart with the cdk8s rendering, with the real helm binary: for every ci/ scenario the
 * chart renders the same objects as the cdk8s constructs do for the same settings (the scenario's values
 * merged over values.yaml, mapped to the model by valuesToStackInput), compared structurally and whole:
 * pod specs, Services, claims, RBAC, custom resources, and every config file parsed.
 *
 * The only differences allowed, and checked to be exactly these:
 * - labels: the chart adds app.kubernetes.io/instance and helm.sh/chart, and says managed-by Helm (cdk8s:
 *   cdk8s); selectors (a topology spread's too) add app.kubernetes.io/instance, so two releases never select each
 *   other's pods;
 * - checksum/config is a hash of different text (Helm's YAML vs cdk8s's); both pods carry one;
 * - the release namespace: Helm installs into it and does not create it (`helm install --create-namespace`
 *   or `kubectl create namespace`), so the chart has no Namespace object for it; the app's and the log
 *   agent's namespaces it creates, with the same Pod Security labels;
 * - the chart's `helm test` pods, which have no counterpart, and the one peer of Prometheus's NetworkPolicy that
 *   lets its test pod (app.kubernetes.io/name prometheus-test) check /-/ready;
 * - NetworkPolicies select pods with app.kubernetes.io/instance added, as the chart's selectors do.
 */
import * as path from 'path';
import { parse } from 'yaml';
import { ChartValues, valuesToStackInput } from '../lib/helm/values';
import { synthObjects } from './helpers/stack';
import { defaultValues, isTestHook, mergeValues, ROOT, Scenario, scenario, scenarios, templateScenario } from './helm-support';
import { loadManifests } from './support/k8s-schema';

const HELM_ONLY_LABELS = ['app.kubernetes.io/instance', 'helm.sh/chart'];
const MANAGED_BY = 'app.kubernetes.io/managed-by';

const key = (o: any) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;

/**
 * Parses a config file's text as YAML 1.1 the way go-yaml does (Prometheus, Loki and Promtail read their files
 * with it: no timestamps) and as YAML 1.2 (Grafana), and requires both readings to agree.
 */
function parsedConfig(text: string): unknown {
  const v11 = parse(text, { version: '1.1', customTags: (tags) => tags.filter((t) => (t as { tag?: string }).tag !== 'tag:yaml.org,2002:timestamp') });
  const v12 = parse(text, { version: '1.2' });
  expect(v12).toEqual(v11);
  return v11;
}

/** Strips what may differ (see the file's comment), after checking it is there. */
function normalize(obj: any, managedBy: 'Helm' | 'cdk8s'): any {
  const o = structuredClone(obj);
  const labelSets = [o.metadata?.labels, o.spec?.template?.metadata?.labels].filter(Boolean);
  for (const labels of labelSets) {
    expect({ object: key(obj), managedBy: labels[MANAGED_BY] }).toEqual({ object: key(obj), managedBy });
    delete labels[MANAGED_BY];
    for (const l of HELM_ONLY_LABELS) {
      if (managedBy === 'Helm') expect({ object: key(obj), label: l, present: l in labels }).toEqual({ object: key(obj), label: l, present: true });
      delete labels[l];
    }
  }
  const selectors = [
    o.spec?.selector?.matchLabels, o.kind === 'Service' ? o.spec?.selector : undefined,
    ...(o.spec?.template?.spec?.topologySpreadConstraints ?? []).map((c: any) => c.labelSelector?.matchLabels),
    // A StatefulSet's claim templates carry the stable selector labels only (they cannot change after creation).
    ...(o.spec?.volumeClaimTemplates ?? []).map((t: any) => t.metadata.labels),
  ].filter(Boolean);
  for (const s of selectors) {
    if (managedBy === 'Helm') expect(s['app.kubernetes.io/instance']).toBe('obs');
    delete s['app.kubernetes.io/instance'];
  }
  if (o.kind === 'NetworkPolicy') {
    const policySelectors = [o.spec.podSelector.matchLabels, ...(o.spec.ingress ?? []).flatMap((r: any) => (r.from ?? []).map((p: any) => p.podSelector?.matchLabels))].filter(Boolean);
    for (const s of policySelectors) {
      // The user's Prometheus (prometheus.scraper) is selected by its name alone: not a pod of the release.
      const scraper = Object.keys(s).length === 1 && s['app.kubernetes.io/name'] !== undefined;
      if (managedBy === 'Helm' && !scraper) expect({ object: key(obj), instance: s['app.kubernetes.io/instance'] }).toEqual({ object: key(obj), instance: 'obs' });
      delete s['app.kubernetes.io/instance'];
    }
    if (managedBy === 'Helm' && o.metadata.name === 'prometheus') {
      // The chart's helm test pod, exactly once, and nothing else of its kind.
      const from = o.spec.ingress[0].from;
      const testPeers = from.filter((p: any) => p.podSelector.matchLabels['app.kubernetes.io/name'] === 'prometheus-test');
      expect(testPeers).toEqual([{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': o.metadata.namespace } }, podSelector: { matchLabels: { 'app.kubernetes.io/name': 'prometheus-test', 'app.kubernetes.io/part-of': 'observability-stack' } } }]);
      o.spec.ingress[0].from = from.filter((p: any) => !testPeers.includes(p));
      // With no other client (Grafana off), cdk8s renders no rule at all: an empty `from` would let anyone in.
      if (o.spec.ingress[0].from.length === 0) o.spec.ingress = [];
    }
  }
  const annotations = o.spec?.template?.metadata?.annotations;
  if (annotations && 'checksum/config' in annotations) {
    expect(annotations['checksum/config']).toMatch(/^[0-9a-f]{64}$/);
    delete annotations['checksum/config'];
  }
  if (o.kind === 'ConfigMap') {
    // config.alloy is not YAML: compared as text, byte for byte.
    o.data = Object.fromEntries(Object.entries(o.data ?? {}).map(([k, v]) => [k, k.endsWith('.alloy') ? v : parsedConfig(v as string)]));
  }
  return o;
}

function byKey(objects: any[]): Record<string, any> {
  const out: Record<string, any> = {};
  for (const o of objects) {
    expect({ duplicate: key(o), seen: key(o) in out }).toEqual({ duplicate: key(o), seen: false });
    out[key(o)] = o;
  }
  return out;
}

/** What the chart renders for a scenario, and what cdk8s makes of the same settings. */
function both(s: Scenario) {
  const values = mergeValues(defaultValues(), s.values) as ChartValues;
  const input = valuesToStackInput(values, s.namespace);
  const chart = templateScenario(s);
  const cdk8s = synthObjects(input);
  return { values, input, chart, cdk8s };
}

describe.each(scenarios().map((s) => [s.file, s] as const))('%s: the chart renders what cdk8s renders', (_file, s) => {
  const { values, chart, cdk8s } = both(s);
  const chartObjects = chart.filter((o) => !isTestHook(o));
  // The release namespace is Helm's to create; every other Namespace must match.
  const cdk8sObjects = cdk8s.filter((o) => !(o.kind === 'Namespace' && o.metadata.name === s.namespace));

  test('the same objects: kind, namespace and name', () => {
    expect(chartObjects.map(key).sort()).toEqual(cdk8sObjects.map(key).sort());
  });

  test('every object equal, labels aside from the Helm-specific ones, config files compared parsed', () => {
    const expected = byKey(cdk8sObjects.map((o) => normalize(o, 'cdk8s')));
    const actual = byKey(chartObjects.map((o) => normalize(o, 'Helm')));
    for (const k of Object.keys(expected)) {
      expect({ object: k, value: actual[k] }).toEqual({ object: k, value: expected[k] });
    }
  });

  test('a checksum/config on exactly the pods that mount a ConfigMap, as in cdk8s', () => {
    const withChecksum = (objs: any[]) => objs.filter((o) => o.spec?.template?.metadata?.annotations?.['checksum/config']).map(key).sort();
    const mountingConfigMaps = chartObjects.filter((o) => (o.spec?.template?.spec?.volumes ?? []).some((v: any) => v.configMap)).map(key).sort();
    expect(withChecksum(chartObjects)).toEqual(mountingConfigMaps);
    expect(withChecksum(chartObjects)).toEqual(withChecksum(cdk8sObjects));
  });

  test('the scenario\'s values are complete for the model (nothing dropped on the way)', () => {
    expect(values.prometheus.image.digest).toBe('');
    expect(Object.keys(values).sort()).toEqual(['alertmanager', 'app', 'clusterDomain', 'commonLabels', 'grafana', 'kubeStateMetrics', 'kubelet', 'logAgent', 'loki', 'namespaces', 'networkPolicies', 'nodeExporter', 'prometheus', 'tests']);
  });
});

describe('defaults against the committed dist/', () => {
  const s = scenario('01-defaults-values.yaml');
  const chart = templateScenario(s).filter((o) => !isTestHook(o));
  const dist = loadManifests(path.join(ROOT, 'dist'));

  test('the same (kind, name, namespace) as dist/, but for the release namespace\'s Namespace', () => {
    const distKeys = dist.map(key).sort();
    expect(distKeys).toContain('Namespace//monitoring');
    expect(chart.map(key).sort()).toEqual(distKeys.filter((k) => k !== 'Namespace//monitoring'));
  });

  test('the same pod specs as dist/: images, args, env, ports, probes, resources, security contexts, volumes', () => {
    const pods = (objs: any[]) => Object.fromEntries(objs.filter((o) => o.spec?.template?.spec).map((o) => [key(o), o.spec.template.spec]));
    const fromDist = pods(dist);
    expect(Object.keys(fromDist).length).toBe(9);
    expect(pods(chart)).toEqual(fromDist);
  });

  test('the same config files as dist/, parsed', () => {
    const configs = (objs: any[]) => Object.fromEntries(objs.filter((o) => o.kind === 'ConfigMap')
      .flatMap((o) => Object.entries(o.data ?? {}).map(([file, text]) => [`${key(o)}:${file}`, parsedConfig(text as string)])));
    const fromDist = configs(dist);
    expect(Object.keys(fromDist).sort()).toEqual([
      'ConfigMap/monitoring-agent/promtail-config:promtail.yaml',
      'ConfigMap/monitoring/alertmanager-config:alertmanager.yml',
      'ConfigMap/monitoring/grafana-dashboard-providers:dashboards.yaml',
      'ConfigMap/monitoring/grafana-dashboards:app.json',
      'ConfigMap/monitoring/grafana-dashboards:containers.json',
      'ConfigMap/monitoring/grafana-dashboards:nodes.json',
      'ConfigMap/monitoring/grafana-dashboards:stack.json',
      'ConfigMap/monitoring/grafana-datasources:datasources.yaml',
      'ConfigMap/monitoring/loki-config:loki.yaml',
      'ConfigMap/monitoring/prometheus-config:prometheus.yml',
      'ConfigMap/monitoring/prometheus-rules:stack-rules.yaml',
    ]);
    expect(configs(chart)).toEqual(fromDist);
  });
});

describe('operator objects need the operator\'s API', () => {
  const s = scenario('04-operator-objects-values.yaml');

  test('with monitoring.coreos.com/v1 served, the ServiceMonitor and PrometheusRule are rendered', () => {
    const kinds = templateScenario(s).map((o) => o.kind);
    expect(kinds).toContain('ServiceMonitor');
    expect(kinds).toContain('PrometheusRule');
  });

  test('without it, neither is, and nothing else changes', () => {
    const withApi = templateScenario(s).filter((o) => !['ServiceMonitor', 'PrometheusRule'].includes(o.kind));
    const without = templateScenario({ ...s, apiVersions: [] });
    expect(without.map((o) => o.kind)).not.toContain('ServiceMonitor');
    expect(without.map((o) => o.kind)).not.toContain('PrometheusRule');
    expect(without).toEqual(withApi);
  });
});
