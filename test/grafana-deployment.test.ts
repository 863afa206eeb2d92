/**
 * Grafana as Kubernetes objects: strict validity, Pod Security restricted, read-only root with the writable
 * paths it needs, probes, Service, and the admin password: never in git, never a literal, readable with
 * one documented command.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import {
  GRAFANA_ADMIN_PASSWORD_COMMAND,
  GRAFANA_ADMIN_PASSWORD_FILE,
  GRAFANA_PASSWORD_INIT_SCRIPT,
  grafanaAdminPasswordCommand,
  parseStackConfig,
  StackInput,
} from '../lib';
import { parse } from 'yaml';
import { COMPOSE_FILES } from '../lib/compose/config-files';
import { renderCompose } from '../lib/compose/render-compose';
import { CUSTOM_INPUT, find, synthObjects } from './helpers/stack';
import { validateManifest } from './support/k8s-schema';
import { podMetadataOf, podSpecOf, restrictedViolations } from './support/pss';

const isGrafanaObject = (o: any) => o.metadata?.labels?.['app.kubernetes.io/name'] === 'grafana';
const SECRET_INPUT: StackInput = { grafana: { adminPasswordSecret: { name: 'grafana-admin', key: 'password' } } };

describe.each([['defaults', {}], ['customised', CUSTOM_INPUT]] as [string, StackInput][])('%s stack', (_name, input) => {
  const c = parseStackConfig(input);
  const objects = synthObjects(input);
  const grafana = objects.filter(isGrafanaObject);

  test('adds Grafana\'s objects under stable names', () => {
    expect(grafana.map((o) => `${o.kind}/${o.metadata.namespace}/${o.metadata.name}`).sort()).toEqual([
      `ConfigMap/${c.namespace}/grafana-dashboard-providers`,
      `ConfigMap/${c.namespace}/grafana-dashboards`,
      `ConfigMap/${c.namespace}/grafana-datasources`,
      `Deployment/${c.namespace}/grafana`,
      `NetworkPolicy/${c.namespace}/grafana`,
      `PersistentVolumeClaim/${c.namespace}/grafana-data`,
      `Service/${c.namespace}/grafana`,
    ]);
  });

  test.each(['1.27', '1.36'] as const)('every Grafana object passes strict OpenAPI validation for Kubernetes %s', (version) => {
    expect(grafana.flatMap((o) => validateManifest(o, version))).toEqual([]);
  });

  test('meets Pod Security restricted, init container included', () => {
    const deployment = find(objects, 'Deployment', 'grafana', c.namespace);
    expect(restrictedViolations(podSpecOf(deployment), podMetadataOf(deployment).annotations)).toEqual([]);
  });

  test('no Secret, ConfigMap or env var in the output holds a password', () => {
    expect(objects.filter((o) => o.kind === 'Secret')).toEqual([]);
    for (const cm of objects.filter((o) => o.kind === 'ConfigMap')) {
      for (const [key, value] of Object.entries<string>(cm.data ?? {})) {
        expect({ cm: cm.metadata.name, key, password: /password/i.test(key) || /password\s*[:=]/i.test(value) }).toEqual({ cm: cm.metadata.name, key, password: false });
      }
    }
    const env = objects.flatMap((o) => podSpecOf(o) ? [...podSpecOf(o).containers, ...(podSpecOf(o).initContainers ?? [])] : []).flatMap((ct: any) => ct.env ?? []);
    const passwordVars = env.filter((e: any) => /PASSWORD|PASSWD|SECRET/i.test(e.name)).map((e: any) => e.name);
    expect(passwordVars).toEqual(['GF_SECURITY_ADMIN_PASSWORD__FILE']);
  });
});

describe('Grafana (defaults)', () => {
  const objects = synthObjects();
  const deployment = find(objects, 'Deployment', 'grafana', 'monitoring');
  const pod = deployment.spec.template.spec;
  const container = pod.containers.find((x: any) => x.name === 'grafana');
  const env = Object.fromEntries(container.env.map((e: any) => [e.name, e.value]));

  test('runs as uid 472 with a read-only root; /var/lib/grafana and /tmp are the writable paths', () => {
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 472, runAsGroup: 472, fsGroup: 472 });
    expect(container.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
    expect(container.volumeMounts.filter((m: any) => !m.readOnly).map((m: any) => m.mountPath).sort()).toEqual(['/tmp', '/var/lib/grafana']);
    const data = pod.volumes.find((v: any) => v.name === container.volumeMounts.find((m: any) => m.mountPath === '/var/lib/grafana').name);
    expect(find(objects, 'PersistentVolumeClaim', data.persistentVolumeClaim.claimName, 'monitoring').spec.resources.requests.storage).toBe('1Gi');
    expect(deployment.spec.strategy).toEqual({ type: 'Recreate' });
  });

  test('mounts the provisioning ConfigMaps where Grafana reads them', () => {
    const volumeOf = (mountPath: string) => {
      const m = container.volumeMounts.find((x: any) => x.mountPath === mountPath);
      return { readOnly: m.readOnly, ...pod.volumes.find((v: any) => v.name === m.name).configMap };
    };
    expect(volumeOf('/etc/grafana/provisioning/datasources')).toEqual({ readOnly: true, name: 'grafana-datasources' });
    expect(volumeOf('/etc/grafana/provisioning/dashboards')).toEqual({ readOnly: true, name: 'grafana-dashboard-providers' });
    expect(deployment.spec.template.metadata.annotations['checksum/config']).toMatch(/^[0-9a-f]{64}$/);
  });

  test('works offline and leaves the plugins bundled in the image in place', () => {
    expect(env).toMatchObject({
      GF_PLUGINS_PREINSTALL_DISABLED: 'true',
      GF_ANALYTICS_REPORTING_ENABLED: 'false',
      GF_ANALYTICS_CHECK_FOR_UPDATES: 'false',
      GF_AUTH_ANONYMOUS_ENABLED: 'false',
      GF_SECURITY_ADMIN_USER: 'admin',
    });
    // Nothing reaches out of the cluster, and nobody is let in by a default: each key of conf/defaults.ini.
    expect(env).toMatchObject({
      GF_ANALYTICS_CHECK_FOR_PLUGIN_UPDATES: 'false', // [analytics] check_for_plugin_updates: no calls to grafana.com
      GF_NEWS_NEWS_FEED_ENABLED: 'false', // [news] news_feed_enabled: no feed from grafana.com
      GF_SNAPSHOTS_EXTERNAL_ENABLED: 'false', // [snapshots] external_enabled: no public snapshots on snapshots.raintank.io
      GF_SECURITY_DISABLE_GRAVATAR: 'true', // [security] disable_gravatar: no email hashes sent to gravatar.com
      GF_SECURITY_ALLOW_EMBEDDING: 'false', // [security] allow_embedding: no framing by other sites
      GF_USERS_ALLOW_SIGN_UP: 'false', // [users] allow_sign_up: only the admin creates users
      GF_PLUGINS_PUBLIC_KEY_RETRIEVAL_DISABLED: 'true', // [plugins] public_key_retrieval_disabled: the built-in signing key
    });
    // Not cookie_secure: the stack offers plain http (port-forward, NodePort); a secure cookie would never log in.
    expect(env.GF_SECURITY_COOKIE_SECURE).toBeUndefined();
    // Grafana 13's Loki data source plugin lives in plugins-bundled: a volume there would hide it.
    expect(container.volumeMounts.map((m: any) => m.mountPath).filter((p: string) => p.startsWith('/usr/share/grafana'))).toEqual([]);
  });

  test('probes /api/health; liveness waits a minute like the Grafana chart', () => {
    expect(container.readinessProbe.httpGet).toEqual({ path: '/api/health', port: 'http' });
    expect(container.livenessProbe).toMatchObject({ httpGet: { path: '/api/health', port: 'http' }, initialDelaySeconds: 60 });
  });

  test('is reached through the ClusterIP Service grafana:3000 and scraped on that port', () => {
    expect(find(objects, 'Service', 'grafana', 'monitoring').spec).toMatchObject({
      type: 'ClusterIP',
      ports: [{ name: 'http', port: 3000, targetPort: 'http', protocol: 'TCP' }],
    });
    expect(container.ports).toEqual([{ name: 'http', containerPort: 3000, protocol: 'TCP' }]);
    expect(deployment.spec.template.metadata.annotations).toMatchObject({ 'prometheus.io/scrape': 'true', 'prometheus.io/port': '3000' });
  });

  test('reads the admin password from the generated file only (run.sh turns __FILE into the variable)', () => {
    expect(env.GF_SECURITY_ADMIN_PASSWORD__FILE).toBe(GRAFANA_ADMIN_PASSWORD_FILE);
    expect('GF_SECURITY_ADMIN_PASSWORD' in env).toBe(false);
    expect(GRAFANA_ADMIN_PASSWORD_FILE.startsWith('/var/lib/grafana/')).toBe(true); // on the volume, next to the database
  });

  test('an init container with Grafana\'s image and uid generates the password on the volume', () => {
    expect(pod.initContainers).toHaveLength(1);
    const init = pod.initContainers[0];
    expect(init.image).toBe(container.image);
    expect(init.command).toEqual(['sh', '-c', GRAFANA_PASSWORD_INIT_SCRIPT]);
    expect(init.volumeMounts).toEqual([{ name: 'data', mountPath: '/var/lib/grafana' }]);
    expect(init.securityContext).toEqual(container.securityContext);
    expect(init.resources.requests).toEqual({ cpu: '10m', memory: '16Mi' });
  });

  test('the documented command reads that file from that container', () => {
    expect(GRAFANA_ADMIN_PASSWORD_COMMAND).toBe('kubectl -n monitoring exec deploy/grafana -c grafana -- cat /var/lib/grafana/.admin-password');
    expect(grafanaAdminPasswordCommand(parseStackConfig({}))).toBe(GRAFANA_ADMIN_PASSWORD_COMMAND);
    expect(GRAFANA_ADMIN_PASSWORD_COMMAND).toContain(`deploy/${deployment.metadata.name} -c ${container.name} -- cat ${env.GF_SECURITY_ADMIN_PASSWORD__FILE}`);
  });
});

describe('the password generator script (run by dash, a POSIX sh like the image\'s busybox ash)', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'grafana-pw-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const run = () => {
    const script = GRAFANA_PASSWORD_INIT_SCRIPT.replace(GRAFANA_ADMIN_PASSWORD_FILE, path.join(dir, '.admin-password'));
    expect(script).not.toBe(GRAFANA_PASSWORD_INIT_SCRIPT);
    return spawnSync('dash', ['-c', script], { encoding: 'utf8' });
  };
  const file = () => path.join(dir, '.admin-password');

  test('writes 24 letters and digits, readable by its owner only, and no temp file', () => {
    const result = run();
    expect(result.status).toBe(0);
    expect(result.stdout).toBe('admin password generated\n');
    expect(fs.readFileSync(file(), 'utf8')).toMatch(/^[A-Za-z0-9]{24}$/);
    expect(fs.statSync(file()).mode & 0o777).toBe(0o400);
    expect(fs.readdirSync(dir)).toEqual(['.admin-password']);
  });

  test('keeps an existing password (restarts must match the database)', () => {
    expect(run().status).toBe(0);
    const first = fs.readFileSync(file(), 'utf8');
    const again = run();
    expect(again.status).toBe(0);
    expect(again.stdout).toBe('admin password already generated: keeping it\n');
    expect(fs.readFileSync(file(), 'utf8')).toBe(first);
  });

  test('two runs on two volumes give different passwords', () => {
    run();
    const first = fs.readFileSync(file(), 'utf8');
    fs.rmSync(file(), { force: true });
    run();
    expect(fs.readFileSync(file(), 'utf8')).not.toBe(first);
  });
});

describe('Grafana with grafana.adminPasswordSecret', () => {
  const objects = synthObjects(SECRET_INPUT);
  const pod = find(objects, 'Deployment', 'grafana', 'monitoring').spec.template.spec;
  const container = pod.containers[0];

  test('mounts that Secret\'s key and points GF_SECURITY_ADMIN_PASSWORD__FILE at it; no init container', () => {
    expect(pod.initContainers).toBeUndefined();
    const volume = pod.volumes.find((v: any) => v.secret);
    expect(volume.secret).toEqual({ secretName: 'grafana-admin', items: [{ key: 'password', path: 'admin-password' }], defaultMode: 0o440 });
    const mount = container.volumeMounts.find((m: any) => m.name === volume.name);
    expect(mount.readOnly).toBe(true);
    const env = container.env.find((e: any) => e.name === 'GF_SECURITY_ADMIN_PASSWORD__FILE');
    expect(env.value).toBe(`${mount.mountPath}/admin-password`);
    expect(container.env.map((e: any) => e.name)).not.toContain('GF_SECURITY_ADMIN_PASSWORD');
  });

  test('does not create the Secret (it never goes in git), and the command reads it from the cluster', () => {
    expect(objects.filter((o) => o.kind === 'Secret')).toEqual([]);
    expect(grafanaAdminPasswordCommand(parseStackConfig(SECRET_INPUT))).toBe(
      "kubectl -n monitoring get secret grafana-admin -o jsonpath='{.data.password}' | base64 -d",
    );
  });

  test('NodePort when asked, on the model\'s node port (for kind\'s extraPortMappings)', () => {
    const svc = find(synthObjects(CUSTOM_INPUT), 'Service', 'grafana', 'observability');
    expect(svc.spec.type).toBe('NodePort');
    expect(svc.spec.ports[0]).toMatchObject({ port: 3000, nodePort: 30300 });
  });
});

describe('Grafana on PostgreSQL with three pods (grafana.postgres, grafana.replicas)', () => {
  const HA_INPUT: StackInput = {
    grafana: {
      replicas: 3,
      adminPasswordSecret: { name: 'grafana-admin', key: 'password' },
      postgres: { enabled: true, host: 'postgres.databases.svc:5432', passwordSecret: { name: 'grafana-db' } },
    },
  };
  const objects = synthObjects(HA_INPUT);
  const deployment = find(objects, 'Deployment', 'grafana', 'monitoring');
  const pod = deployment.spec.template.spec;
  const container = pod.containers[0];

  test('three interchangeable pods: no volume claim, a rolling update that keeps them serving', () => {
    expect(deployment.spec.replicas).toBe(3);
    expect(deployment.spec.strategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } });
    expect(objects.filter((o) => o.kind === 'PersistentVolumeClaim' && o.metadata.name.startsWith('grafana'))).toEqual([]);
    const data = pod.volumes.find((v: any) => v.name === 'data');
    expect(data).toEqual({ name: 'data', emptyDir: { sizeLimit: '256Mi' } });
    expect(pod.initContainers).toBeUndefined();
    expect(restrictedViolations(pod, deployment.spec.template.metadata.annotations)).toEqual([]);
  });

  test('verify-full against a private CA: the Secret\'s certificate mounted for Grafana\'s group, ca_cert_path pointing at it', () => {
    const withCa = synthObjects({ grafana: { ...HA_INPUT.grafana, postgres: { ...HA_INPUT.grafana!.postgres, sslMode: 'verify-full', caSecret: { name: 'postgres-ca' } } } });
    const caPod = find(withCa, 'Deployment', 'grafana', 'monitoring').spec.template.spec;
    const volume = caPod.volumes.find((v: any) => v.name === 'database-ca');
    expect(volume.secret).toEqual({ secretName: 'postgres-ca', items: [{ key: 'ca.crt', path: 'ca.crt' }], defaultMode: 0o440 });
    const mount = caPod.containers[0].volumeMounts.find((m: any) => m.name === 'database-ca');
    expect(mount).toEqual({ name: 'database-ca', mountPath: '/etc/grafana/database-ca', readOnly: true });
    expect(caPod.containers[0].env).toContainEqual({ name: 'GF_DATABASE_CA_CERT_PATH', value: '/etc/grafana/database-ca/ca.crt' });
    expect(caPod.containers[0].env).toContainEqual({ name: 'GF_DATABASE_SSL_MODE', value: 'verify-full' });
    // Without one, the system's CAs: no such volume or variable.
    expect(pod.volumes.map((v: any) => v.name)).not.toContain('database-ca');
    expect(container.env.map((e: any) => e.name)).not.toContain('GF_DATABASE_CA_CERT_PATH');
  });

  test('spread over the nodes where the scheduler can, and a drain takes one pod at a time', () => {
    const selector = deployment.spec.selector;
    expect(pod.topologySpreadConstraints).toEqual([{ maxSkew: 1, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'ScheduleAnyway', labelSelector: selector }]);
    const pdb = find(objects, 'PodDisruptionBudget', 'grafana', 'monitoring');
    expect(pdb.spec).toEqual({ maxUnavailable: 1, selector });
    expect(validateManifest(pdb, '1.27')).toEqual([]);
    // One pod on PostgreSQL, or SQLite: neither.
    for (const input of [{ grafana: { ...HA_INPUT.grafana, replicas: 1 } }, {}]) {
      const single = synthObjects(input);
      expect(single.filter((o) => o.kind === 'PodDisruptionBudget')).toEqual([]);
      expect(find(single, 'Deployment', 'grafana', 'monitoring').spec.template.spec.topologySpreadConstraints).toBeUndefined();
    }
  });

  test('alerting\'s HA ([unified_alerting] ha_*): each pod on its own address, the others through a headless Service, gossip on TCP and UDP', () => {
    const env: Array<{ name: string; value?: string; valueFrom?: unknown }> = container.env;
    const at = (n: string) => env.findIndex((e) => e.name === n);
    expect(env[at('POD_IP')]).toEqual({ name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } });
    const alerting: Record<string, string> = Object.fromEntries(env.filter((e) => e.name.startsWith('GF_UNIFIED_ALERTING_HA_')).map((e) => [e.name, e.value ?? '']));
    // [unified_alerting] keys of conf/defaults.ini; the address in brackets (Go's net.SplitHostPort takes "[10.244.1.7]:9094"
    // and needs them for "[fd00::7]:9094"), the docs' 2m reconnect timeout (default 6h), this stack's label.
    expect(alerting).toEqual({
      GF_UNIFIED_ALERTING_HA_LISTEN_ADDRESS: '[$(POD_IP)]:9094',
      GF_UNIFIED_ALERTING_HA_ADVERTISE_ADDRESS: '[$(POD_IP)]:9094',
      GF_UNIFIED_ALERTING_HA_PEERS: 'grafana-alerting.monitoring.svc.cluster.local:9094',
      GF_UNIFIED_ALERTING_HA_RECONNECT_TIMEOUT: '2m',
      GF_UNIFIED_ALERTING_HA_LABEL: 'grafana.monitoring',
    });
    // As the kubelet expands it, for an IPv4 and an IPv6 pod: a host in brackets and a port, as Go splits them.
    for (const ip of ['10.244.1.7', 'fd00:10:244::7']) {
      const expanded = alerting.GF_UNIFIED_ALERTING_HA_LISTEN_ADDRESS.replace('$(POD_IP)', ip);
      expect(/^\[([^\]]+)\]:(\d+)$/.exec(expanded)?.slice(1)).toEqual([ip, '9094']);
    }
    // Kubernetes expands $(POD_IP) only from a variable listed before the one that names it.
    for (const n of Object.keys(alerting).filter((k) => alerting[k].includes('$(POD_IP)'))) expect(at('POD_IP')).toBeLessThan(at(n));
    expect(container.ports).toEqual([
      { name: 'http', containerPort: 3000, protocol: 'TCP' },
      { name: 'gossip-tcp', containerPort: 9094, protocol: 'TCP' },
      { name: 'gossip-udp', containerPort: 9094, protocol: 'UDP' },
    ]);
    const headless = find(objects, 'Service', 'grafana-alerting', 'monitoring');
    expect(alerting.GF_UNIFIED_ALERTING_HA_PEERS.split(':')[0]).toBe(`${headless.metadata.name}.${headless.metadata.namespace}.svc.cluster.local`);
    expect(headless.spec).toMatchObject({ clusterIP: 'None', publishNotReadyAddresses: true, selector: deployment.spec.selector.matchLabels });
    expect(headless.spec.ports).toEqual([
      { name: 'gossip-tcp', port: 9094, targetPort: 'gossip-tcp', protocol: 'TCP' },
      { name: 'gossip-udp', port: 9094, targetPort: 'gossip-udp', protocol: 'UDP' },
    ]);
    expect(validateManifest(headless, '1.27')).toEqual([]);
    // One pod: none of it.
    const single = find(synthObjects({ grafana: { ...HA_INPUT.grafana, replicas: 1 } }), 'Deployment', 'grafana', 'monitoring').spec.template.spec.containers[0];
    expect(single.env.map((e: any) => e.name).filter((n: string) => n === 'POD_IP' || n.startsWith('GF_UNIFIED_ALERTING'))).toEqual([]);
    expect(single.ports).toHaveLength(1);
    expect(() => parseStackConfig({ grafana: { ...HA_INPUT.grafana, extraEnv: { GF_UNIFIED_ALERTING_HA_PEERS: 'x:9094' } } })).toThrow('grafana.extraEnv.GF_UNIFIED_ALERTING_HA_PEERS must not be set');
  });

  test('grafana.secretKeySecret: [security] secret_key and the secrets manager\'s key from the Secret, never a literal; without it, none (Grafana\'s default)', () => {
    const withKey = find(synthObjects({ grafana: { ...HA_INPUT.grafana, secretKeySecret: { name: 'grafana-secret-key' } } }), 'Deployment', 'grafana', 'monitoring').spec.template.spec.containers[0];
    // GF_<section>_<key>, "." in the section as "_": [secrets_manager.encryption.secret_key.v1] secret_key.
    const keyVariables = ['GF_SECURITY_SECRET_KEY', 'GF_SECRETS_MANAGER_ENCRYPTION_SECRET_KEY_V1_SECRET_KEY'];
    expect(withKey.env.filter((e: any) => e.name.includes('SECRET_KEY'))).toEqual(keyVariables.map((name) => ({ name, valueFrom: { secretKeyRef: { name: 'grafana-secret-key', key: 'secret-key' } } })));
    expect(container.env.map((e: any) => e.name).filter((n: string) => n.includes('SECRET_KEY'))).toEqual([]);
    // On SQLite too: the setting is Grafana's, whatever its database.
    const sqlite = find(synthObjects({ grafana: { secretKeySecret: { name: 's', key: 'k' } } }), 'Deployment', 'grafana', 'monitoring').spec.template.spec.containers[0];
    expect(sqlite.env).toContainEqual({ name: 'GF_SECURITY_SECRET_KEY', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } });
    // Compose: from compose/.env, and compose stops without it.
    const compose = parse(renderCompose(parseStackConfig({ grafana: { secretKeySecret: { name: 's' } } })).get(COMPOSE_FILES.compose)!);
    for (const name of keyVariables) expect(compose.services.grafana.environment[name]).toBe('${GRAFANA_SECRET_KEY:?set GRAFANA_SECRET_KEY in compose/.env (grafana.secretKeySecret)}');
    expect(parse(renderCompose(parseStackConfig({})).get(COMPOSE_FILES.compose)!).services.grafana.environment.GF_SECURITY_SECRET_KEY).toBeUndefined();
    // A release that set it as a plain variable: refused, saying where the same value goes.
    for (const name of keyVariables.flatMap((n) => [n, `${n}__FILE`])) {
      expect(() => parseStackConfig({ grafana: { extraEnv: { [name]: 'x' } } })).toThrow(`grafana.extraEnv.${name} must not be set: put the same value in a Secret and name it in grafana.secretKeySecret`);
    }
  });

  test('the database settings as [database] of conf/defaults.ini, the password from the Secret, none as a literal', () => {
    const env = container.env.filter((e: any) => e.name.startsWith('GF_DATABASE_'));
    // [database] type, host, name, user, ssl_mode, password (grafana/grafana conf/defaults.ini).
    expect(env).toEqual([
      { name: 'GF_DATABASE_TYPE', value: 'postgres' },
      { name: 'GF_DATABASE_HOST', value: 'postgres.databases.svc:5432' },
      { name: 'GF_DATABASE_NAME', value: 'grafana' },
      { name: 'GF_DATABASE_USER', value: 'grafana' },
      { name: 'GF_DATABASE_SSL_MODE', value: 'require' },
      { name: 'GF_DATABASE_PASSWORD', valueFrom: { secretKeyRef: { name: 'grafana-db', key: 'password' } } },
    ]);
    expect(objects.filter((o) => o.kind === 'Secret')).toEqual([]);
    expect(validateManifest(deployment, '1.36')).toEqual([]);
  });

  test('refused: more than one pod on SQLite, and PostgreSQL without its server, its password or the admin\'s Secret', () => {
    expect(() => parseStackConfig({ grafana: { replicas: 2 } })).toThrow('grafana.replicas must be 1 unless grafana.postgres.enabled is true');
    const { adminPasswordSecret: _admin, ...withoutAdmin } = HA_INPUT.grafana!;
    expect(() => parseStackConfig({ grafana: withoutAdmin })).toThrow('grafana.postgres.enabled needs grafana.adminPasswordSecret.name set');
    expect(() => parseStackConfig({ grafana: { ...HA_INPUT.grafana, postgres: { enabled: true, passwordSecret: { name: 'grafana-db' } } } })).toThrow('grafana.postgres.enabled needs grafana.postgres.host set');
    expect(() => parseStackConfig({ grafana: { ...HA_INPUT.grafana, postgres: { enabled: true, host: 'pg:5432' } } })).toThrow('grafana.postgres.enabled needs grafana.postgres.passwordSecret.name set');
    // Nothing is asked of Grafana's settings while it is off.
    expect(() => parseStackConfig({ grafana: { enabled: false, replicas: 2 } })).not.toThrow();
  });

  test('compose: one Grafana on the same database, its password from compose/.env', () => {
    const files = renderCompose(parseStackConfig(HA_INPUT));
    const env = parse(files.get(COMPOSE_FILES.compose)!).services.grafana.environment;
    expect(Object.fromEntries(Object.entries(env).filter(([k]) => k.startsWith('GF_DATABASE_')))).toEqual({
      GF_DATABASE_TYPE: 'postgres', GF_DATABASE_HOST: 'postgres.databases.svc:5432', GF_DATABASE_NAME: 'grafana', GF_DATABASE_USER: 'grafana', GF_DATABASE_SSL_MODE: 'require',
      // Interpolated by compose from compose/.env; it refuses to start while the variable is unset or empty.
      GF_DATABASE_PASSWORD: expect.stringMatching(/^\$\{GRAFANA_DATABASE_PASSWORD:\?set GRAFANA_DATABASE_PASSWORD in compose\/\.env/),
    });
    expect(files.get(COMPOSE_FILES.envExample)).toMatch(/^# GRAFANA_DATABASE_PASSWORD=$/m);
    expect(parse(renderCompose(parseStackConfig({})).get(COMPOSE_FILES.compose)!).services.grafana.environment.GF_DATABASE_TYPE).toBeUndefined();
  });
});
