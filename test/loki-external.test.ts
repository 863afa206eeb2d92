/**
 * A Loki the user already runs (loki.external, with loki.enabled false): the log agent ships there with the
 * tenant, Grafana's Loki data source reads it with the same tenant, and the stack deploys no Loki of its own. The
 * label contract, the dashboards' log panels and the exemplars' links hold; Loki's own row and policy go with the
 * stack's Loki. Checked in cdk8s and compose here, in the chart by test/helm-parity.test.ts (ci/22).
 */
import { parse } from 'yaml';
import { parseStackConfig, renderManifests, StackInput } from '../lib';
import { COMPOSE_FILES } from '../lib/compose/config-files';
import { LOKI_PASSWORD_FILE } from '../lib/components/loki';
import { COMPOSE_USER_FILES, renderCompose } from '../lib/compose/render-compose';
import { readComposeVerifyPlan, readVerifyPlan } from '../lib/verify';
import { helmTemplate } from './helm-support';
import { APP_DASHBOARD_FILE, STACK_DASHBOARD_FILE } from '../lib/render/dashboards';
import { find, synthObjects } from './helpers/stack';
import { parseAlloy, ParsedBlock } from './support/alloy-parse';
import { tempDir } from './helpers/temp-dir';
import * as fs from 'fs';
import * as path from 'path';

const URL = 'http://loki-gateway.loki.svc.cluster.local';
const EXTERNAL: StackInput = { loki: { enabled: false, external: { url: URL, tenant: 'team-a' } } };
const PUSH = `${URL}/loki/api/v1/push`;

const rowsOf = (json: string) => JSON.parse(json).panels.filter((p: any) => p.type === 'row').map((p: any) => p.title);
const lokiDataSource = (datasourcesYaml: string) => parse(datasourcesYaml).datasources.find((d: any) => d.uid === 'loki');
const endpointOf = (alloy: string): ParsedBlock => parseAlloy(alloy).blocks.find((b) => b.name === 'loki.write')!.blocks.find((b) => b.name === 'endpoint')!;

describe('cdk8s: the agent and Grafana on a Loki of the user\'s', () => {
  const objects = synthObjects(EXTERNAL);

  test('no Loki of the stack\'s: no workload, Service, ConfigMap, claim or policy named loki', () => {
    expect(objects.filter((o) => o.metadata?.labels?.['app.kubernetes.io/name'] === 'loki')).toEqual([]);
    expect(objects.filter((o) => o.metadata?.name?.startsWith('loki'))).toEqual([]);
  });

  test('Promtail pushes to its push URL with the tenant (X-Scope-OrgID)', () => {
    const promtail = parse(find(objects, 'ConfigMap', 'promtail-config', 'monitoring-agent').data['promtail.yaml']);
    expect(promtail.clients).toHaveLength(1);
    expect(promtail.clients[0]).toMatchObject({ url: PUSH, tenant_id: 'team-a' });
    expect(find(objects, 'DaemonSet', 'promtail', 'monitoring-agent').spec.template.spec.containers[0].image).toMatch(/^grafana\/promtail:/);
  });

  test('Alloy too: loki.write\'s endpoint names the URL and the tenant; without a tenant, no tenant_id', () => {
    const alloy = find(synthObjects({ ...EXTERNAL, logAgent: { kind: 'alloy' } }), 'ConfigMap', 'alloy-config', 'monitoring-agent').data['config.alloy'];
    expect(Object.fromEntries(endpointOf(alloy).attributes)).toMatchObject({ url: PUSH, tenant_id: 'team-a' });
    const none = find(synthObjects({ loki: { enabled: false, external: { url: URL } }, logAgent: { kind: 'alloy' } }), 'ConfigMap', 'alloy-config', 'monitoring-agent').data['config.alloy'];
    expect(endpointOf(none).attributes.map(([k]) => k)).not.toContain('tenant_id');
    // The stack's own Loki: one tenant, no header.
    const own = find(synthObjects({ logAgent: { kind: 'alloy' } }), 'ConfigMap', 'alloy-config', 'monitoring-agent').data['config.alloy'];
    expect(endpointOf(own).attributes.map(([k]) => k)).not.toContain('tenant_id');
  });

  test('Grafana\'s Loki data source reads that Loki with the tenant as a header, and exemplars still link to it', () => {
    const datasources = find(objects, 'ConfigMap', 'grafana-datasources', 'monitoring').data['datasources.yaml'];
    expect(lokiDataSource(datasources)).toMatchObject({ url: URL, jsonData: { httpHeaderName1: 'X-Scope-OrgID' }, secureJsonData: { httpHeaderValue1: 'team-a' } });
    const prometheus = parse(datasources).datasources.find((d: any) => d.uid === 'prometheus');
    expect(decodeURIComponent(prometheus.jsonData.exemplarTraceIdDestinations[0].url)).toContain('"datasource":"loki"');
    // The stack's own Loki: no header.
    const own = lokiDataSource(find(synthObjects({}), 'ConfigMap', 'grafana-datasources', 'monitoring').data['datasources.yaml']);
    expect(own.jsonData.httpHeaderName1).toBeUndefined();
    expect(own.secureJsonData).toBeUndefined();
  });

  test('the dashboards keep the app\'s logs and the agent\'s row; Loki\'s own row goes with the stack\'s Loki', () => {
    const dashboards = find(objects, 'ConfigMap', 'grafana-dashboards', 'monitoring').data;
    expect(rowsOf(dashboards[APP_DASHBOARD_FILE])).toContain('Logs');
    expect(rowsOf(dashboards[STACK_DASHBOARD_FILE])).toContain('Log agent');
    expect(rowsOf(dashboards[STACK_DASHBOARD_FILE])).not.toContain('Loki');
    expect(rowsOf(find(synthObjects({}), 'ConfigMap', 'grafana-dashboards', 'monitoring').data[STACK_DASHBOARD_FILE])).toContain('Loki');
  });

  test('the agent\'s namespace, default deny and policy stay; npm run verify has no Loki of the stack\'s to ask', () => {
    expect(find(objects, 'Namespace', 'monitoring-agent').metadata.labels['pod-security.kubernetes.io/enforce']).toBe('privileged');
    expect(find(objects, 'NetworkPolicy', 'promtail', 'monitoring-agent').spec.ingress).toHaveLength(1);
    expect(find(objects, 'NetworkPolicy', 'default-deny-ingress', 'monitoring-agent')).toBeDefined();
    const dir = tempDir('loki-external-dist-');
    for (const [name, content] of renderManifests(parseStackConfig(EXTERNAL))) fs.writeFileSync(path.join(dir, name), content);
    const plan = readVerifyPlan(dir);
    expect(plan.lokiNamespace).toBeUndefined();
    expect(plan.grafana?.lokiDataSource).toBe(true);
  });
});

describe('basic auth to that Loki: the user in each config, the password from a mounted file', () => {
  const AUTH: StackInput = { loki: { enabled: false, external: { url: URL, basicAuth: { username: '123456', passwordSecret: { name: 'loki-gateway', key: 'token' } } } } };
  const PASSWORD_VOLUME = { name: 'loki-password', secret: { secretName: 'loki-gateway', items: [{ key: 'token', path: 'password' }], defaultMode: 0o440 } };
  const PASSWORD_MOUNT = { name: 'loki-password', mountPath: '/etc/loki-password', readOnly: true };
  const podOf = (objects: any[], kind: string, name: string, ns: string) => find(objects, kind, name, ns).spec.template.spec;

  test('cdk8s, Promtail: basic_auth with password_file, and the Secret mounted there', () => {
    const objects = synthObjects(AUTH);
    expect(parse(find(objects, 'ConfigMap', 'promtail-config', 'monitoring-agent').data['promtail.yaml']).clients[0].basic_auth)
      .toEqual({ username: '123456', password_file: LOKI_PASSWORD_FILE });
    const pod = podOf(objects, 'DaemonSet', 'promtail', 'monitoring-agent');
    expect(pod.volumes).toContainEqual(PASSWORD_VOLUME);
    expect(pod.containers[0].volumeMounts).toContainEqual(PASSWORD_MOUNT);
  });

  test('cdk8s, Alloy: a basic_auth block in loki.write\'s endpoint', () => {
    const objects = synthObjects({ ...AUTH, logAgent: { kind: 'alloy' } });
    const block = endpointOf(find(objects, 'ConfigMap', 'alloy-config', 'monitoring-agent').data['config.alloy']).blocks.find((b) => b.name === 'basic_auth')!;
    expect(Object.fromEntries(block.attributes)).toEqual({ username: '123456', password_file: LOKI_PASSWORD_FILE });
    expect(podOf(objects, 'DaemonSet', 'alloy', 'monitoring-agent').volumes).toContainEqual(PASSWORD_VOLUME);
    // Without a user, no block (the stack's own Loki, or a Loki of the user's without auth).
    const none = find(synthObjects({ loki: { enabled: false, external: { url: URL } }, logAgent: { kind: 'alloy' } }), 'ConfigMap', 'alloy-config', 'monitoring-agent').data['config.alloy'];
    expect(endpointOf(none).blocks.map((b) => b.name)).toEqual([]);
  });

  test('cdk8s, Grafana: basicAuth with the user, the password from the file ($__file, not escaped), the tenant kept', () => {
    const objects = synthObjects({ loki: { enabled: false, external: { ...AUTH.loki!.external, tenant: 'team-a' } } });
    const text = find(objects, 'ConfigMap', 'grafana-datasources', 'monitoring').data['datasources.yaml'];
    expect(lokiDataSource(text)).toMatchObject({
      basicAuth: true, basicAuthUser: '123456',
      secureJsonData: { basicAuthPassword: `$__file{${LOKI_PASSWORD_FILE}}`, httpHeaderValue1: 'team-a' },
    });
    expect(text).not.toContain('$$__file');
    const pod = podOf(objects, 'Deployment', 'grafana', 'monitoring');
    expect(pod.volumes).toContainEqual(PASSWORD_VOLUME);
    expect(pod.containers[0].volumeMounts).toContainEqual(PASSWORD_MOUNT);
    // Without basic auth: none of it.
    const plain = lokiDataSource(find(synthObjects(EXTERNAL), 'ConfigMap', 'grafana-datasources', 'monitoring').data['datasources.yaml']);
    expect([plain.basicAuth, plain.basicAuthUser, plain.secureJsonData.basicAuthPassword]).toEqual([undefined, undefined, undefined]);
    expect(podOf(synthObjects(EXTERNAL), 'Deployment', 'grafana', 'monitoring').volumes.map((v: any) => v.name)).not.toContain('loki-password');
  });

  test('compose: the agent and Grafana mount compose/secrets/loki-password, which git ignores and synthesis keeps', () => {
    const files = renderCompose(parseStackConfig(AUTH));
    const compose = parse(files.get(COMPOSE_FILES.compose)!);
    expect(compose.secrets['loki-password']).toEqual({ file: './secrets/loki-password' });
    for (const service of ['promtail', 'grafana']) expect(compose.services[service].secrets).toEqual([{ source: 'loki-password', target: LOKI_PASSWORD_FILE }]);
    expect(parse(files.get(COMPOSE_FILES.promtailConfig)!).clients[0].basic_auth).toEqual({ username: '123456', password_file: LOKI_PASSWORD_FILE });
    expect(lokiDataSource(files.get(COMPOSE_FILES.grafanaDatasources)!)).toMatchObject({ basicAuthUser: '123456', secureJsonData: { basicAuthPassword: `$__file{${LOKI_PASSWORD_FILE}}` } });
    expect(files.get(COMPOSE_FILES.gitignore)).toMatch(/^secrets\/$/m);
    expect(COMPOSE_USER_FILES).toContain(COMPOSE_FILES.lokiPassword);
    expect(parse(renderCompose(parseStackConfig(EXTERNAL)).get(COMPOSE_FILES.compose)!).secrets).toBeUndefined();
  });

  test('refused, in the model\'s words: a user without a Secret, a Secret without a user, a user without a URL, a user with a colon', () => {
    const external = (basicAuth: Record<string, unknown>, url = URL): StackInput => ({ loki: { enabled: false, external: { url, basicAuth } } });
    expect(() => parseStackConfig(external({ username: '123456' }))).toThrow('loki.external.basicAuth.username needs loki.external.basicAuth.passwordSecret.name set (the password comes from that Secret), got "123456"');
    expect(() => parseStackConfig(external({ passwordSecret: { name: 'loki-gateway' } }))).toThrow('loki.external.basicAuth.passwordSecret.name needs loki.external.basicAuth.username set (the password belongs to a user), got "loki-gateway"');
    expect(() => parseStackConfig(external({ username: '123456', passwordSecret: { name: 'loki-gateway' } }, ''))).toThrow('loki.external.basicAuth.username needs loki.external.url set (it is sent to that Loki; the stack\'s own asks for none), got "123456"');
    expect(() => parseStackConfig(external({ username: 'a:b', passwordSecret: { name: 'loki-gateway' } }))).toThrow('loki.external.basicAuth.username must be up to 256 printable ASCII characters');
  });
});

describe('compose: the same, and a route out for the agent', () => {
  const files = renderCompose(parseStackConfig(EXTERNAL));
  const compose = parse(files.get(COMPOSE_FILES.compose)!);

  test('no Loki service or config; Promtail ships with the tenant and waits for no Loki', () => {
    expect(Object.keys(compose.services)).not.toContain('loki');
    expect(files.has(COMPOSE_FILES.lokiConfig)).toBe(false);
    expect(parse(files.get(COMPOSE_FILES.promtailConfig)!).clients[0]).toMatchObject({ url: PUSH, tenant_id: 'team-a' });
    expect(compose.services.promtail.depends_on).toBeUndefined();
    expect(compose.services.grafana.depends_on).not.toHaveProperty('loki');
  });

  test('the agent joins the egress network (the user\'s Loki is outside the project\'s networks); with the stack\'s Loki it does not', () => {
    expect(compose.services.promtail.networks).toEqual(['backend', 'egress']);
    expect(compose.networks.egress).toEqual({});
    const own = parse(renderCompose(parseStackConfig({})).get(COMPOSE_FILES.compose)!);
    expect(own.services.promtail.networks).toEqual(['backend']);
  });

  test('the dashboards: the app\'s logs and the agent\'s row, no Loki row', () => {
    const dashboards = (name: string) => files.get(`${COMPOSE_FILES.grafanaDashboardsDir}/${name}`)!;
    expect(rowsOf(dashboards(APP_DASHBOARD_FILE))).toContain('Logs');
    expect(rowsOf(dashboards(STACK_DASHBOARD_FILE))).toContain('Log agent');
    expect(rowsOf(dashboards(STACK_DASHBOARD_FILE))).not.toContain('Loki');
  });

  test('Alloy too: the tenant in loki.write, the egress network', () => {
    const alloyFiles = renderCompose(parseStackConfig({ ...EXTERNAL, logAgent: { kind: 'alloy' } }));
    expect(Object.fromEntries(endpointOf(alloyFiles.get(COMPOSE_FILES.alloyConfig)!).attributes)).toMatchObject({ url: PUSH, tenant_id: 'team-a' });
    const services = parse(alloyFiles.get(COMPOSE_FILES.compose)!).services;
    expect(services.alloy.networks).toEqual(['backend', 'egress']);
    expect(services.alloy.depends_on).toBeUndefined();
  });

  test('compose:verify asks Grafana\'s Loki for the app\'s lines: no Loki service of the stack\'s to ask', () => {
    const dir = tempDir('loki-external-compose-');
    for (const [name, content] of files) {
      fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
      fs.writeFileSync(path.join(dir, name), content);
    }
    const { plan } = readComposeVerifyPlan(dir);
    expect(plan.lokiNamespace).toBeUndefined();
    expect(plan.grafana).toMatchObject({ lokiDataSource: true, lokiStore: URL });
    expect(plan.targets.map((t) => t.job)).not.toContain('loki');
  });

  test('Grafana reads that Loki with the tenant; Prometheus scrapes the agent, not a Loki', () => {
    expect(lokiDataSource(files.get(COMPOSE_FILES.grafanaDatasources)!)).toMatchObject({ url: URL, jsonData: { httpHeaderName1: 'X-Scope-OrgID' }, secureJsonData: { httpHeaderValue1: 'team-a' } });
    const jobs = parse(files.get(COMPOSE_FILES.prometheusConfig)!).scrape_configs.map((j: any) => JSON.stringify(j.static_configs ?? []));
    expect(jobs.join()).toContain('promtail:');
    expect(jobs.join()).not.toContain('"loki:');
  });
});

describe('the chart renders what cdk8s renders, for each agent, with and without a tenant', () => {
  test.each([
    ['promtail', 'team-a', '', 'promtail-config'],
    ['promtail', '', '123456', 'promtail-config'],
    ['alloy', '', '', 'alloy-config'],
    ['alloy', 'team-a', '123456', 'alloy-config'],
  ] as const)('%s, tenant "%s", user "%s"', (kind, tenant, username, configMap) => {
    const basicAuth = username ? { username, passwordSecret: { name: 'loki-gateway' } } : {};
    const input: StackInput = { loki: { enabled: false, external: { url: URL, tenant, basicAuth } }, logAgent: { kind } };
    // A numeric user (a hosted Loki's user id) with --set-string: --set would make it a number, which the schema refuses.
    const chart = helmTemplate({
      set: ['loki.enabled=false', `loki.external.url=${URL}`, `loki.external.tenant=${tenant}`, `logAgent.kind=${kind}`],
      setString: username ? [`loki.external.basicAuth.username=${username}`, 'loki.external.basicAuth.passwordSecret.name=loki-gateway'] : [],
    });
    const cdk8s = synthObjects(input);
    // promtail.yaml as YAML (helm's toYaml orders keys), config.alloy as text.
    const [ours, theirs] = [chart, cdk8s].map((o) => Object.values<string>(find(o, 'ConfigMap', configMap, 'monitoring-agent').data)[0]);
    if (kind === 'promtail') expect(parse(ours)).toEqual(parse(theirs));
    else expect(ours).toBe(theirs);
    expect(parse(find(chart, 'ConfigMap', 'grafana-datasources', 'monitoring').data['datasources.yaml'])).toEqual(parse(find(cdk8s, 'ConfigMap', 'grafana-datasources', 'monitoring').data['datasources.yaml']));
  });

  test('a tenant, user or URL holding a placeholder\'s text (or a "$") is written as given', () => {
    const chart = helmTemplate({ set: ['loki.enabled=false', 'loki.external.url=http://ALLOY_BATCH_SIZE.example/LOKI_TENANT/$1', 'loki.external.tenant=LOKI_USERNAME', 'loki.external.basicAuth.username=LOKI_PUSH_URL', 'loki.external.basicAuth.passwordSecret.name=p', 'logAgent.kind=alloy'] });
    const endpoint = endpointOf(find(chart, 'ConfigMap', 'alloy-config', 'monitoring-agent').data['config.alloy']);
    expect(Object.fromEntries(endpoint.attributes)).toMatchObject({ url: 'http://ALLOY_BATCH_SIZE.example/LOKI_TENANT/$1/loki/api/v1/push', tenant_id: 'LOKI_USERNAME', batch_size: '1024KiB' });
    expect(Object.fromEntries(endpoint.blocks.find((b) => b.name === 'basic_auth')!.attributes)).toMatchObject({ username: 'LOKI_PUSH_URL' });
  });

  test('the chart refuses a pasted push URL, as the model does', () => {
    expect(() => helmTemplate({ set: ['loki.enabled=false', `loki.external.url=${PUSH}`] })).toThrow(/loki\/external\/url|loki.external.url/);
    expect(() => parseStackConfig({ loki: { enabled: false, external: { url: PUSH } } })).toThrow('must be the Loki\'s base URL, not one of its API paths');
  });
});

describe('refused, in the model\'s words', () => {
  test('a Loki of the user\'s while the stack runs its own', () => {
    expect(() => parseStackConfig({ loki: { external: { url: URL } } }))
      .toThrow(`loki.external.url must be empty while loki.enabled is true (the log agent ships to one Loki and Grafana reads one: set loki.enabled to false to use yours), got "${URL}"`);
  });

  test('a tenant with no Loki to send it to', () => {
    expect(() => parseStackConfig({ loki: { enabled: false, external: { tenant: 'team-a' } } }))
      .toThrow('loki.external.tenant needs loki.external.url set');
  });

  test.each(['loki-gateway:3100', 'http://loki/', 'ftp://loki', 'http://lo ki', 'http://user:token@loki', 'http://loki/a"b', 'https://loki/loki/api/v1/push', 'http://gw/tenant/loki/api/v1/push'])('a URL that is no Loki base URL: %s', (url) => {
    expect(() => parseStackConfig({ loki: { enabled: false, external: { url } } })).toThrow('loki.external.url');
  });

  test.each(['http://loki/api', 'http://loki.loki.svc:3100', 'https://logs.example.com/tenant-a'])('a base URL is taken, a host named loki too: %s', (url) => {
    expect(parseStackConfig({ loki: { enabled: false, external: { url } } }).loki.external.url).toBe(url);
  });

  test('a tenant Loki would refuse', () => {
    expect(() => parseStackConfig({ loki: { enabled: false, external: { url: URL, tenant: 'a/b' } } })).toThrow('loki.external.tenant');
  });

  test('neither: no log agent, no Loki data source, no agent namespace', () => {
    const objects = synthObjects({ loki: { enabled: false }, nodeExporter: { enabled: false } });
    expect(objects.filter((o) => o.kind === 'DaemonSet')).toEqual([]);
    expect(objects.filter((o) => o.kind === 'Namespace').map((o) => o.metadata.name)).not.toContain('monitoring-agent');
    expect(lokiDataSource(find(objects, 'ConfigMap', 'grafana-datasources', 'monitoring').data['datasources.yaml'])).toBeUndefined();
  });
});
