// Each construct on its own, as a user of the library would take it: Testing.chart(), its own props (the
// model's defaults for what is left out), and the objects it connects to passed in.
import { Testing } from 'cdk8s';
import { parse } from 'yaml';
import { Alloy, DemoApp, Grafana, Loki, parseStackConfig, Prometheus, Promtail, prometheusFlags } from '../lib';

const defaults = parseStackConfig({});
const objectsOf = (chart: ReturnType<typeof Testing.chart>) => Testing.synth(chart) as any[];
const find = (objects: any[], kind: string, name: string) => objects.find((o) => o.kind === kind && o.metadata.name === name);

describe('Prometheus', () => {
  test('with no props: the model\'s defaults', () => {
    const chart = Testing.chart();
    const prometheus = new Prometheus(chart, 'prometheus');
    const objects = objectsOf(chart);
    const deployment = find(objects, 'Deployment', 'prometheus');
    expect(deployment.metadata.namespace).toBe('monitoring');
    expect(deployment.spec.template.spec.containers[0].args).toEqual(prometheusFlags(defaults.prometheus));
    expect(prometheus.url).toBe('http://prometheus.monitoring.svc.cluster.local:9090');
    expect(prometheus.settings).toEqual(defaults.prometheus);
  });

  test('its own namespace, domain and settings', () => {
    const chart = Testing.chart();
    const settings = parseStackConfig({ prometheus: { retentionDays: 30 } }).prometheus;
    const prometheus = new Prometheus(chart, 'prometheus', { namespace: 'obs', clusterDomain: 'cluster.example', settings });
    const deployment = find(objectsOf(chart), 'Deployment', 'prometheus');
    expect(deployment.metadata.namespace).toBe('obs');
    expect(deployment.spec.template.spec.containers[0].args).toContain('--storage.tsdb.retention.time=30d');
    expect(prometheus.url).toBe('http://prometheus.obs.svc.cluster.example:9090');
  });
});

describe('Loki', () => {
  test('its addresses follow its namespace and domain; its config its settings', () => {
    const chart = Testing.chart();
    const loki = new Loki(chart, 'loki', { namespace: 'logs', settings: parseStackConfig({ loki: { retentionDays: 3 } }).loki });
    expect(loki.url).toBe('http://loki.logs.svc.cluster.local:3100');
    expect(loki.pushUrl).toBe('http://loki.logs.svc.cluster.local:3100/loki/api/v1/push');
    const config = parse(find(objectsOf(chart), 'ConfigMap', 'loki-config').data['loki.yaml']);
    expect(config.limits_config.retention_period).toBe('72h');
  });
});

describe('Grafana', () => {
  test('queries the Prometheus and Loki it is given, by their addresses', () => {
    const chart = Testing.chart();
    const prometheus = new Prometheus(chart, 'prometheus', { namespace: 'obs' });
    const loki = new Loki(chart, 'loki', { namespace: 'obs' });
    new Grafana(chart, 'grafana', { namespace: 'obs', prometheus, loki });
    const datasources = parse(find(objectsOf(chart), 'ConfigMap', 'grafana-datasources').data['datasources.yaml']).datasources;
    expect(datasources.map((d: any) => [d.uid, d.url])).toEqual([['prometheus', prometheus.url], ['loki', loki.url]]);
    expect(datasources[0].jsonData.timeInterval).toBe(`${prometheus.settings.scrapeIntervalSeconds}s`);
  });

  test('without a Loki: no Loki data source, and dashboards without the logs row', () => {
    const chart = Testing.chart();
    new Grafana(chart, 'grafana', { prometheus: new Prometheus(chart, 'prometheus') });
    const objects = objectsOf(chart);
    const datasources = parse(find(objects, 'ConfigMap', 'grafana-datasources').data['datasources.yaml']).datasources;
    expect(datasources.map((d: any) => d.uid)).toEqual(['prometheus']);
    expect(JSON.stringify(find(objects, 'ConfigMap', 'grafana-dashboards').data)).not.toContain('"loki"');
  });
});

describe('log agents', () => {
  test.each([['Promtail', Promtail], ['Alloy', Alloy]] as const)('%s pushes to the Loki it is given, in its own namespace', (_name, Agent) => {
    const chart = Testing.chart();
    const loki = new Loki(chart, 'loki', { namespace: 'obs' });
    new Agent(chart, 'agent', { loki, namespace: 'agents' });
    const objects = objectsOf(chart);
    const daemonSet = objects.find((o) => o.kind === 'DaemonSet');
    expect(daemonSet.metadata.namespace).toBe('agents');
    const config = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.namespace === 'agents');
    expect(Object.values<string>(config.data)[0]).toContain(loki.pushUrl);
  });
});

describe('DemoApp', () => {
  test('with no props: the app, its Service and its traffic generator, at the model\'s defaults', () => {
    const chart = Testing.chart();
    const app = new DemoApp(chart, 'app');
    const objects = objectsOf(chart);
    expect(objects.map((o) => `${o.kind}/${o.metadata.namespace}/${o.metadata.name}`)).toEqual([
      'Deployment/demo/demo-app', 'Service/demo/demo-app', 'Deployment/demo/demo-app-traffic',
    ]);
    expect(app.url).toBe('http://demo-app.demo.svc.cluster.local:8080');
  });

  test('a ServiceMonitor at the scrape interval it is given', () => {
    const chart = Testing.chart();
    new DemoApp(chart, 'app', { settings: parseStackConfig({ app: { serviceMonitor: { enabled: true } } }).app, scrapeIntervalSeconds: 30 });
    expect(find(objectsOf(chart), 'ServiceMonitor', 'demo-app').spec.endpoints[0].interval).toBe('30s');
  });
});

describe('pod settings, applied by each construct to its own pods', () => {
  test('Prometheus alone honours the pod settings in its settings', () => {
    const chart = Testing.chart();
    new Prometheus(chart, 'prometheus', { settings: parseStackConfig({ prometheus: { nodeSelector: { disk: 'ssd' }, extraEnv: { GOGC: '50' } } }).prometheus });
    const pod = find(objectsOf(chart), 'Deployment', 'prometheus').spec.template.spec;
    expect(pod.nodeSelector).toEqual({ disk: 'ssd' });
    expect(pod.containers[0].env).toEqual([{ name: 'GOGC', value: '50' }]);
  });

  test('a log agent takes the logAgent pod settings as podSettings', () => {
    const chart = Testing.chart();
    const loki = new Loki(chart, 'loki');
    new Promtail(chart, 'promtail', { loki, podSettings: parseStackConfig({ logAgent: { priorityClassName: 'node-agents' } }).logAgent });
    expect(objectsOf(chart).find((o) => o.kind === 'DaemonSet').spec.template.spec.priorityClassName).toBe('node-agents');
  });
});
