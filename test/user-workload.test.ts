/**
 * scrapeWorkload (lib/k8s/scrape.ts): a cdk8s-plus workload of a user's own chart, next to the stack in one
 * cdk8s app, made scraped without typing an annotation; its synthesized pod, as discovery sees it, scraped by
 * the real Prometheus through the stack's generated pod job with exactly the contract's labels.
 */
import { App, Chart } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { stringify } from 'yaml';
import { KUBERNETES_PODS_JOB, ObservabilityStack, parseStackConfig, renderKubernetesPrometheusConfig, scrapeWorkload } from '../lib';
import { kubernetesContractRules } from '../lib';
import { validateCustomResource } from './helpers/crd-schema';
import { validateManifest } from './support/k8s-schema';
import { deploymentPodTargets } from './support/pod-targets';
import { RunningPrometheus, serveMetrics, startPrometheus, withFileSd } from './support/prometheus';

type Json = any;

/** A user's cdk8s app: the stack, and a chart of their own with one Deployment serving metrics on 9102. */
function userApp(scrape: (web: kplus.Deployment) => void): Json[] {
  const app = new App();
  new ObservabilityStack(app, 'observability');
  const chart = new Chart(app, 'shop', { namespace: 'shop' });
  const web = new kplus.Deployment(chart, 'web', {
    containers: [{ image: 'registry.example.com/shop/web:1.4.2', ports: [{ number: 8080, name: 'http' }, { number: 9102, name: 'metrics' }] }],
  });
  scrape(web);
  // The chart's objects as cdk8s synthesizes them (not written out: app.synth() would write into dist/).
  return chart.toJson();
}

describe('scrapeWorkload', () => {
  test('gives the pods the annotations the stack\'s pod job reads, for a declared port', () => {
    const deployment = userApp((web) => scrapeWorkload(web, { port: 9102 })).find((o) => o.kind === 'Deployment');
    expect(deployment.spec.template.metadata.annotations).toEqual({ 'prometheus.io/scrape': 'true', 'prometheus.io/port': '9102', 'prometheus.io/path': '/metrics' });
    const https = userApp((web) => scrapeWorkload(web, { port: 9102, path: '/internal/metrics', scheme: 'https' })).find((o) => o.kind === 'Deployment');
    expect(https.spec.template.metadata.annotations).toEqual({
      'prometheus.io/scrape': 'true', 'prometheus.io/port': '9102', 'prometheus.io/path': '/internal/metrics', 'prometheus.io/scheme': 'https',
    });
  });

  test('refuses a port no container declares, an impossible port, a relative path: naming the workload, value and rule', () => {
    expect(() => userApp((web) => scrapeWorkload(web, { port: 9999 }))).toThrow('scrapeWorkload(shop/web): port 9999 is declared by none of its containers (declared: 8080, 9102); Prometheus scrapes declared container ports only');
    expect(() => userApp((web) => scrapeWorkload(web, { port: 70000 }))).toThrow('scrapeWorkload(shop/web): port must be an integer from 1 to 65535, got 70000');
    expect(() => userApp((web) => scrapeWorkload(web, { port: 9102, path: 'metrics' }))).toThrow('scrapeWorkload(shop/web): path must be an absolute path without a query, got "metrics"');
  });
});

describe('scrapeWorkload with serviceMonitor (a Prometheus Operator cluster)', () => {
  const objects = userApp((web) => scrapeWorkload(web, { port: 9102, serviceMonitor: { labels: { release: 'kube-prometheus-stack' }, intervalSeconds: 30 } }));
  const deployment = objects.find((o) => o.kind === 'Deployment');
  const service = objects.find((o) => o.kind === 'Service');
  const monitor = objects.find((o) => o.kind === 'ServiceMonitor');

  test('a headless Service selecting exactly the workload\'s pods, its one port the metrics port, named', () => {
    expect(validateManifest(service, '1.36')).toEqual([]);
    expect(service.spec.clusterIP).toBe('None');
    const podLabels = deployment.spec.template.metadata.labels;
    expect(Object.entries(service.spec.selector).every(([k, v]) => podLabels[k] === v)).toBe(true);
    expect(service.spec.selector).toEqual(deployment.spec.selector.matchLabels);
    expect(service.spec.ports).toEqual([{ name: 'metrics', port: 9102, targetPort: 9102 }]);
  });

  test('a ServiceMonitor, valid against the operator\'s CRD, selecting that Service alone by its port name, with the contract\'s relabelings', () => {
    expect(validateCustomResource(monitor)).toEqual([]);
    expect(monitor.metadata).toMatchObject({ name: service.metadata.name, labels: { release: 'kube-prometheus-stack' } });
    expect(Object.entries(monitor.spec.selector.matchLabels).every(([k, v]) => service.metadata.labels[k] === v)).toBe(true);
    expect(monitor.spec.selector.matchLabels).toEqual({ 'app.kubernetes.io/name': service.metadata.name });
    expect(monitor.spec.endpoints).toHaveLength(1);
    const [endpoint] = monitor.spec.endpoints;
    expect({ port: endpoint.port, path: endpoint.path, interval: endpoint.interval }).toEqual({ port: 'metrics', path: '/metrics', interval: '30s' });
    // The same rules as the stack's pod job, camelCased for the CRD.
    const back = endpoint.relabelings.map((r: any) => ({ source_labels: r.sourceLabels, ...(r.regex ? { regex: r.regex } : {}), target_label: r.targetLabel }));
    expect(back).toEqual(kubernetesContractRules());
    expect(endpoint.relabelings.every((r: any) => r.action === 'replace')).toBe(true);
  });

  test('without serviceMonitor, neither object; a bad interval is refused with the rule', () => {
    expect(userApp((web) => scrapeWorkload(web, { port: 9102 })).map((o) => o.kind)).toEqual(['Deployment']);
    expect(() => userApp((web) => scrapeWorkload(web, { port: 9102, serviceMonitor: { intervalSeconds: 0 } }))).toThrow('scrapeWorkload(shop/web): serviceMonitor.intervalSeconds must be an integer from 1 to 3600, got 0');
  });
});

describe('a scraped workload of the user\'s, run by the real Prometheus through the stack\'s pod job', () => {
  let prometheus: RunningPrometheus;
  let server: { port: number; close: () => Promise<void> };
  let deployment: Json;

  beforeAll(async () => {
    deployment = userApp((web) => scrapeWorkload(web, { port: 9102 })).find((o) => o.kind === 'Deployment');
    server = await serveMetrics('# TYPE orders_total counter\norders_total 3\n');
    const c = parseStackConfig({ prometheus: { scrapeIntervalSeconds: 1, scrapeTimeoutSeconds: 1, evaluationIntervalSeconds: 1 } });
    const config: Json = renderKubernetesPrometheusConfig(c.prometheus);
    // Discovery's view of its pod (each declared port, its ReplicaSet); the annotated 9102 is served by the stand-in
    // on a free port, and the annotation moved with it.
    const { config: swapped, files } = withFileSd(config, {
      [KUBERNETES_PODS_JOB]: deploymentPodTargets(deployment, { namespace: 'shop', hash: '6d9f8b7c5d', suffix: 'q2w3e', port: server.port }),
    });
    delete swapped.rule_files;
    prometheus = await startPrometheus({ config: stringify(swapped), files });
  });

  afterAll(async () => {
    await prometheus?.stop();
    await server?.close();
  });

  test('one target, its series with exactly the contract\'s labels, `app` from its controller (no app label set)', async () => {
    const series = await prometheus.queryUntilData('orders_total', 30000, 'the workload\'s series');
    expect(series).toHaveLength(1);
    const { __name__, job, instance, ...contract } = series[0].metric;
    expect([job, instance]).toEqual([KUBERNETES_PODS_JOB, `127.0.0.1:${server.port}`]);
    expect(contract).toEqual({ namespace: 'shop', pod: `${deployment.metadata.name}-6d9f8b7c5d-q2w3e`, container: deployment.spec.template.spec.containers[0].name, node: 'kind-worker', app: deployment.metadata.name });
  });
});
