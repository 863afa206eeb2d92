/**
 * Grafana's provisioning files: both data sources are there on first start, exactly one is the default
 * (two crash Grafana, prometheus-community/helm-charts#2251), their uids are fixed, and their URLs reach the
 * synthesized Services.
 */
import { parse } from 'yaml';
import {
  escapeProvisioningValue,
  GRAFANA_DASHBOARDS_DIR,
  LOKI_DATASOURCE_UID,
  parseStackConfig,
  PROMETHEUS_DATASOURCE_UID,
  ALERTMANAGER_DATASOURCE_UID,
  renderGrafanaDashboardProvider,
  renderGrafanaDatasources,
  StackInput,
} from '../lib';
import { CUSTOM_INPUT, find, synthObjects } from './helpers/stack';

function datasourcesOf(objects: any[], namespace: string): any {
  return parse(find(objects, 'ConfigMap', 'grafana-datasources', namespace).data['datasources.yaml']);
}

describe.each([['defaults', {}], ['customised', CUSTOM_INPUT]] as [string, StackInput][])('%s stack', (_name, input) => {
  const c = parseStackConfig(input);
  const objects = synthObjects(input);
  const file = datasourcesOf(objects, c.namespace);

  test('provisions Prometheus, Loki and Alertmanager with fixed uids, pruning what leaves the file', () => {
    expect(file.apiVersion).toBe(1);
    expect(file.prune).toBe(true);
    expect(file.datasources.map((d: any) => [d.name, d.type, d.uid])).toEqual([
      ['Prometheus', 'prometheus', PROMETHEUS_DATASOURCE_UID],
      ['Loki', 'loki', LOKI_DATASOURCE_UID],
      ['Alertmanager', 'alertmanager', ALERTMANAGER_DATASOURCE_UID],
    ]);
    // Alertmanager's own API (not Grafana's Mimir/Cortex flavour), and Grafana's alerts stay in Grafana.
    expect(file.datasources[2].jsonData).toEqual({ implementation: 'prometheus', handleGrafanaManagedAlerts: false });
    expect([PROMETHEUS_DATASOURCE_UID, LOKI_DATASOURCE_UID]).toEqual(['prometheus', 'loki']);
  });

  test('marks exactly one data source as default: Prometheus', () => {
    expect(file.datasources.filter((d: any) => d.isDefault === true).map((d: any) => d.uid)).toEqual(['prometheus']);
    expect(file.datasources.find((d: any) => d.uid === 'loki').isDefault).toBe(false);
  });

  test('each URL is a synthesized Service\'s name.namespace.svc.<domain>:port', () => {
    const services = new Map(objects.filter((o) => o.kind === 'Service').map((s) => [s.metadata.name, s]));
    for (const [uid, serviceName] of [['prometheus', 'prometheus'], ['loki', 'loki'], ['alertmanager', 'alertmanager']]) {
      const url = new URL(file.datasources.find((d: any) => d.uid === uid).url);
      const svc = services.get(serviceName);
      expect({ uid, url: `${url.protocol}//${url.host}${url.pathname}` }).toEqual({
        uid,
        url: `http://${svc.metadata.name}.${svc.metadata.namespace}.svc.${c.clusterDomain}:${svc.spec.ports.find((p: any) => p.name === 'http').port}/`,
      });
    }
  });

  test('queries Prometheus by POST with its scrape interval and version', () => {
    expect(file.datasources[0]).toMatchObject({
      access: 'proxy',
      editable: false,
      jsonData: { httpMethod: 'POST', timeInterval: `${c.prometheus.scrapeIntervalSeconds}s`, prometheusType: 'Prometheus', prometheusVersion: '3.14.0' },
    });
    expect(file.datasources[1]).toMatchObject({ access: 'proxy', jsonData: { maxLines: 1000 } });
  });

  test('the provider reads the dashboards at the top of the mounted directory into one folder', () => {
    const providers = parse(find(objects, 'ConfigMap', 'grafana-dashboard-providers', c.namespace).data['dashboards.yaml']);
    expect(providers).toEqual(renderGrafanaDashboardProvider());
    expect(providers.providers).toEqual([{
      name: 'default',
      orgId: 1,
      type: 'file',
      disableDeletion: false,
      updateIntervalSeconds: 30,
      allowUiUpdates: false,
      folder: 'Observability stack',
      folderUid: 'observability-stack',
      // A ConfigMap volume's subdirectories are symlinks Grafana's file reader does not follow.
      options: { path: GRAFANA_DASHBOARDS_DIR, foldersFromFilesStructure: false },
    }]);
    const grafana = find(objects, 'Deployment', 'grafana', c.namespace);
    const mount = grafana.spec.template.spec.containers[0].volumeMounts.find((m: any) => m.mountPath === GRAFANA_DASHBOARDS_DIR);
    expect(grafana.spec.template.spec.volumes.find((v: any) => v.name === mount.name)).toEqual({ name: mount.name, configMap: { name: 'grafana-dashboards' } });
  });
});

describe('renderGrafanaDatasources', () => {
  test('without Loki there is only Prometheus, still the one default', () => {
    const file: any = renderGrafanaDatasources({ prometheus: 'http://prometheus:9090' });
    expect(file.datasources.map((d: any) => [d.uid, d.isDefault])).toEqual([['prometheus', true]]);
  });

  test('a stack with Loki and Alertmanager disabled provisions only Prometheus', () => {
    const file = datasourcesOf(synthObjects({ loki: { enabled: false }, alertmanager: { enabled: false } }), 'monitoring');
    expect(file.datasources.map((d: any) => d.uid)).toEqual(['prometheus']);
  });

  test('writes every literal $ as $$ (provisioning expands $VAR)', () => {
    const file: any = renderGrafanaDatasources({ prometheus: 'http://prometheus:9090/$x', loki: 'http://loki:3100/${y}' });
    expect(file.datasources.map((d: any) => d.url)).toEqual(['http://prometheus:9090/$$x', 'http://loki:3100/$${y}']);
    expect(escapeProvisioningValue({ a: ['$1', { b: 'a$$b' }], n: 1, t: true })).toEqual({ a: ['$$1', { b: 'a$$$$b' }], n: 1, t: true });
  });

  test('grafana.prometheusQuery: the store\'s URL and type, its tenant as X-Scope-OrgID, no version of the stack\'s Prometheus', () => {
    const input: StackInput = {
      prometheus: { remoteWrite: [{ name: 'mimir', url: 'http://mimir-distributor.mimir.svc:8080/api/v1/push', tenant: 'observability' }] },
      grafana: { prometheusQuery: { url: 'http://mimir-query-frontend.mimir.svc:8080/prometheus', tenant: 'observability' } },
    };
    const [prometheus] = datasourcesOf(synthObjects(input), 'monitoring').datasources;
    expect(prometheus).toMatchObject({
      url: 'http://mimir-query-frontend.mimir.svc:8080/prometheus', isDefault: true,
      jsonData: { prometheusType: 'Mimir', httpHeaderName1: 'X-Scope-OrgID', httpMethod: 'POST' },
      secureJsonData: { httpHeaderValue1: 'observability' },
    });
    expect(prometheus.jsonData.prometheusVersion).toBeUndefined();
    // The samples go to the same tenant: a multi-tenant Mimir refuses a push without it.
    const objects = synthObjects(input);
    expect(parse(find(objects, 'ConfigMap', 'prometheus-config', 'monitoring').data['prometheus.yml']).remote_write).toEqual([
      { name: 'mimir', url: 'http://mimir-distributor.mimir.svc:8080/api/v1/push', headers: { 'X-Scope-OrgID': 'observability' }, send_exemplars: true },
    ]);
    expect(() => parseStackConfig({ prometheus: { remoteWrite: [{ name: 'm', url: 'http://m', tenant: '..' }] } })).toThrow('prometheus.remoteWrite[0].tenant must be a tenant id');
    // No tenant: no header.
    const { grafana: _g, ...noTenantInput } = input;
    const [plain] = datasourcesOf(synthObjects({ ...noTenantInput, grafana: { prometheusQuery: { url: 'http://thanos-query.thanos.svc:10902', type: 'Thanos' } } }), 'monitoring').datasources;
    expect(plain.jsonData).toMatchObject({ prometheusType: 'Thanos' });
    expect(plain.jsonData.httpHeaderName1).toBeUndefined();
    expect(plain.secureJsonData).toBeUndefined();
    // A store that nothing feeds is refused.
    expect(() => parseStackConfig({ grafana: { prometheusQuery: { url: 'http://thanos-query.thanos.svc:10902' } } })).toThrow(
      'grafana.prometheusQuery.url needs prometheus.remoteWrite set (the store holds only what Prometheus ships it)',
    );
  });

  test('the Prometheus version follows a plain x.y.z image tag of the model', () => {
    const file = datasourcesOf(synthObjects({ prometheus: { image: { tag: 'v3.15.1' } } }), 'monitoring');
    expect(file.datasources[0].jsonData.prometheusVersion).toBe('3.15.1');
    const custom = datasourcesOf(synthObjects({ prometheus: { image: { tag: 'v3.15.1-distroless' } } }), 'monitoring');
    expect(custom.datasources[0].jsonData.prometheusVersion).toBe('3.14.0');
  });
});
