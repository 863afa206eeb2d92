/**
 * The chart's layout and what it tells people, with the real helm binary: one resource per template file,
 * named after its kind and grouped per component; commented, namespaced helpers; NOTES.txt (rendered by
 * `helm install --dry-run=client`, which needs no cluster) with the way to each UI, the Grafana password
 * command the cdk8s rendering documents, and the warnings; ci/ scenarios headed by what they test.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { grafanaAdminPasswordCommand, parseStackConfig } from '../lib';
import { ChartValues, valuesToStackInput } from '../lib/helm/values';
import { CHART_DIR, defaultValues, helm, mergeValues, ROOT, scenario, scenarios, templateArgs } from './helm-support';
import { parseManifests } from './support/k8s-schema';
import { parse } from 'yaml';

/** Which template file each rendered object came from (helm's `# Source:` comments). */
function sources(args: string[]): Array<{ file: string; kind: string; name: string }> {
  const r = helm(args);
  if (r.code !== 0) throw new Error(r.stderr);
  return r.stdout.split(/^---$/m).flatMap((doc) => {
    const file = /^# Source: observability-stack\/templates\/(.+)$/m.exec(doc)?.[1];
    const objects = parseManifests(doc);
    if (objects.length === 0) return [];
    if (!file) throw new Error(`no # Source for ${doc.slice(0, 200)}`);
    return objects.map((o) => ({ file, kind: o.kind as string, name: o.metadata.name as string }));
  });
}

/** The NOTES helm prints after an install, rendered offline. */
function notes(extra: string[] = [], namespace = 'monitoring'): string {
  const r = helm(['install', 'obs', CHART_DIR, '--namespace', namespace, '--dry-run=client', ...extra]);
  if (r.code !== 0) throw new Error(r.stderr);
  const at = r.stdout.indexOf('NOTES:\n');
  expect(at).toBeGreaterThan(-1);
  return r.stdout.slice(at);
}

const FILE_PREFIX: Record<string, string> = {
  Deployment: 'deployment', StatefulSet: 'statefulset', DaemonSet: 'daemonset', Service: 'service', ServiceAccount: 'serviceaccount',
  ClusterRole: 'clusterrole', ClusterRoleBinding: 'clusterrolebinding', ConfigMap: 'configmap',
  PersistentVolumeClaim: 'pvc', Namespace: 'namespace', ServiceMonitor: 'servicemonitor', PrometheusRule: 'prometheusrule',
  NetworkPolicy: 'networkpolicy', PodDisruptionBudget: 'poddisruptionbudget',
};

describe('templates/', () => {
  // Every scenario together renders every template; the operator scenario with the operator's API.
  const perScenario = scenarios().map((s) => sources(templateArgs({ namespace: s.namespace, apiVersions: s.apiVersions, valuesFiles: [s.path] })));
  const all = perScenario.flat();

  test('one resource per file, named after its kind, in its component\'s folder (tests/ for helm test pods)', () => {
    const perFile = new Map<string, Set<string>>();
    for (const { file, kind } of all) {
      const [folder, base] = [path.dirname(file), path.basename(file, '.yaml')];
      if (kind === 'Pod') {
        expect({ file, ok: folder === 'tests' && base.endsWith('-pod') }).toEqual({ file, ok: true });
      } else {
        const prefix = FILE_PREFIX[kind];
        expect({ file, kind, ok: prefix !== undefined && (base === prefix || base.startsWith(`${prefix}-`)) }).toEqual({ file, kind, ok: true });
        expect(['prometheus', 'loki', 'node-agents', 'network-policies', 'node-exporter', 'promtail', 'alloy', 'alertmanager', 'grafana', 'kube-state-metrics', 'app', 'traffic-generator']).toContain(folder);
      }
      // One object per file per rendering: the same file may render differently named objects across scenarios.
      perFile.set(file, (perFile.get(file) ?? new Set()).add(kind));
    }
    for (const [file, kinds] of perFile) expect({ file, kinds: [...kinds] }).toEqual({ file, kinds: [expect.any(String)] });
  });

  test('no template file renders two objects at once', () => {
    for (const rendered of perScenario) {
      const files = rendered.map((x) => x.file);
      expect(files.length).toBe(new Set(files).size);
    }
  });

  test('every template file renders in some scenario (no dead templates)', () => {
    const templates: string[] = [];
    const walk = (dir: string, rel: string) => {
      for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
        if (e.isDirectory()) walk(path.join(dir, e.name), `${rel}${e.name}/`);
        else if (e.name.endsWith('.yaml') && e.name !== 'validate.yaml') templates.push(`${rel}${e.name}`);
      }
    };
    walk(path.join(CHART_DIR, 'templates'), '');
    expect(templates.sort()).toEqual([...new Set(all.map((x) => x.file))].sort());
  });

  test('every helper is namespaced observability-stack.* and has a one-line comment above it', () => {
    for (const file of fs.readdirSync(path.join(CHART_DIR, 'templates')).filter((f) => f.endsWith('.tpl'))) {
      const lines = fs.readFileSync(path.join(CHART_DIR, 'templates', file), 'utf8').split('\n');
      lines.forEach((line, i) => {
        const m = /\{\{- define "([^"]+)"/.exec(line);
        if (!m) return;
        expect(m[1]).toMatch(/^observability-stack\./);
        // A one-line {{/* name: … */}} comment, or the last line of a block comment naming the helper.
        const above = lines.slice(Math.max(0, i - 5), i).join('\n');
        expect({ helper: m[1], comment: above.includes(`${m[1]}:`) && /\*\/\}\}\s*$/.test(lines[i - 1]) }).toEqual({ helper: m[1], comment: true });
      });
    }
  });
});

describe('NOTES.txt', () => {
  test('tells how to reach Prometheus, Grafana and the app, and prints the Grafana password command of the cdk8s rendering', () => {
    const text = notes();
    expect(text).toContain('kubectl -n monitoring port-forward svc/prometheus 9090:9090');
    expect(text).toContain('kubectl -n monitoring port-forward svc/grafana 3000:3000');
    expect(text).toContain('kubectl -n demo port-forward svc/demo-app 8080:8080');
    const c = parseStackConfig(valuesToStackInput(defaultValues() as ChartValues, 'monitoring'));
    expect(text).toContain(`    ${grafanaAdminPasswordCommand(c)}\n`);
    expect(text).toContain('kubectl label namespace monitoring --overwrite');
    expect(text).not.toContain('WARNING');
  });

  test('with an existing Secret, prints the command that reads it (a dotted key escaped)', () => {
    const s = scenario('03-existing-admin-secret-values.yaml');
    const text = notes(['--values', s.path]);
    const c = parseStackConfig(valuesToStackInput(mergeValues(defaultValues(), s.values) as ChartValues, 'monitoring'));
    expect(grafanaAdminPasswordCommand(c)).toContain("'{.data.admin\\.password}'");
    expect(text).toContain(`    ${grafanaAdminPasswordCommand(c)}\n`);
  });

  test('with basic auth to a Loki of the user\'s, names the Secret both namespaces must hold; without it, nothing', () => {
    const text = notes(['--values', scenario('22-loki-external-values.yaml').path]);
    expect(text).toContain('Basic auth as 123456: the Secret loki-gateway (key token) must exist in both monitoring (Grafana)\n  and monitoring-agent (the log agent)');
    expect(notes()).not.toContain('Basic auth');
  });

  test('says whether the kubelets\' certificates are verified, and how to turn it on', () => {
    expect(notes()).toContain('It does not verify their certificates: kind\'s and kubeadm\'s kubelets serve self-signed ones.');
    const verified = notes(['--values', scenario('14-kubelet-tls-values.yaml').path]);
    expect(verified).toContain('It verifies their certificates against /var/run/secrets/kubernetes.io/serviceaccount/ca.crt.');
    expect(verified).not.toContain('It does not verify');
    expect(notes(['--set', 'kubelet.enabled=false'])).not.toContain('jobs cadvisor and kubelet');
  });

  test('with a NodePort, gives the node port and the kind port mapping', () => {
    const text = notes(['--values', scenario('02-nodeport-grafana-values.yaml').path]);
    expect(text).toContain('extraPortMappings: [{containerPort: 30301, hostPort: 3000, listenAddress: "127.0.0.1"}]');
    expect(text).toContain('log in as "ops@example.com"');
  });

  test('warns when a ServiceMonitor or PrometheusRule was asked for but the cluster has no Prometheus Operator API', () => {
    const s = scenario('04-operator-objects-values.yaml');
    // (`helm install --dry-run=client` has no --api-versions: a cluster with the API is covered by helm-parity's render.)
    const text = notes(['--values', s.path]);
    expect(text).toContain('WARNING: app.serviceMonitor.enabled is true, but this cluster does not serve monitoring.coreos.com/v1');
    expect(text).toContain('WARNING: prometheus.prometheusRule.enabled is true, but this cluster does not serve monitoring.coreos.com/v1');
  });
});

describe('ci/', () => {
  test('holds numbered scenarios, each headed by what it tests and the command that renders it', () => {
    const all = scenarios();
    expect(all.map((s) => s.file)).toEqual(all.map((_, i) => expect.stringMatching(new RegExp(`^${String(i + 1).padStart(2, '0')}-[a-z0-9-]+-values\\.yaml$`))));
    expect(all[0].file).toBe('01-defaults-values.yaml');
    for (const s of all) expect(s.title.length).toBeGreaterThan(20);
  });
});

describe('README.md', () => {
  const readme = fs.readFileSync(path.join(CHART_DIR, 'README.md'), 'utf8');

  test('explains the namespaces, the password, and how to render and test', () => {
    expect(readme).toContain('kubectl label namespace');
    expect(readme).toContain('namespaces.create');
    expect(readme).toContain('helm install');
    expect(readme).toContain('helm test');
    expect(readme).toContain(grafanaAdminPasswordCommand(parseStackConfig({})));
  });
});

describe('upgrading a release of chart 0.1.0 with --reuse-values', () => {
  test('its values (kept as they were, without the keys added since) still validate and render', () => {
    // --reuse-values replaces the chart's values.yaml with the release's: render a copy of the chart so.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'obs-chart-010-'));
    try {
      fs.cpSync(CHART_DIR, dir, { recursive: true });
      fs.copyFileSync(path.join(ROOT, 'test', 'fixtures', 'values-0.1.0.yaml'), path.join(dir, 'values.yaml'));
      const r = helm(['template', 'obs', dir, '--namespace', 'monitoring']);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).toContain('image: "prom/prometheus:v3.14.0"');
      // No alertmanager block among the old values: no Alertmanager, and Prometheus and Grafana not pointed at one.
      const objects = r.stdout.split(/^---$/m).map((d) => parse(d)).filter(Boolean);
      expect(objects.filter((o: any) => o.metadata?.name?.startsWith('alertmanager'))).toEqual([]);
      const configMap = (name: string) => objects.find((o: any) => o.kind === 'ConfigMap' && o.metadata.name === name);
      expect(parse(configMap('prometheus-config').data['prometheus.yml']).alerting).toBeUndefined();
      expect(configMap('grafana-datasources').data['datasources.yaml']).not.toContain('alertmanager');
      // Settings added since take the model's defaults: exemplars kept, Loki on its volume only.
      expect(parse(configMap('prometheus-config').data['prometheus.yml']).storage).toEqual({ exemplars: { max_exemplars: 100000 } });
      expect(parse(configMap('loki-config').data['loki.yaml']).storage_config).toBeUndefined();

      // Turning Loki's bucket on then needs only what the rules ask for; the rest comes from the defaults.
      const s3 = helm(['template', 'obs', dir, '--namespace', 'monitoring', '--set', 'loki.storage.s3.enabled=true',
        '--set-string', 'loki.storage.s3.since=2027-01-01,loki.storage.s3.endpoint=s3.example.com,loki.storage.s3.bucket=loki-chunks,loki.storage.s3.credentialsSecret.name=loki-s3']);
      expect(s3.stderr).toBe('');
      const lokiYaml = parse((s3.stdout.split(/^---$/m).map((d) => parse(d)).find((o: any) => o?.kind === 'ConfigMap' && o.metadata.name === 'loki-config') as any).data['loki.yaml']);
      expect(lokiYaml.storage_config).toEqual({ aws: { endpoint: 's3.example.com', bucketnames: 'loki-chunks', s3forcepathstyle: false, insecure: false } });
      expect(s3.stdout).toContain('key: "AWS_SECRET_ACCESS_KEY"');

      // And Grafana on PostgreSQL with three pods, from only what its rules ask for.
      const ha = helm(['template', 'obs', dir, '--namespace', 'monitoring', '--set', 'grafana.replicas=3,grafana.postgres.enabled=true',
        '--set-string', 'grafana.postgres.host=pg.db.svc:5432,grafana.postgres.passwordSecret.name=grafana-db,grafana.adminPasswordSecret.name=grafana-admin,grafana.adminPasswordSecret.key=password']);
      expect(ha.stderr).toBe('');
      const grafana = ha.stdout.split(/^---$/m).map((d) => parse(d)).find((o: any) => o?.kind === 'Deployment' && o.metadata.name === 'grafana') as any;
      expect(grafana.spec.replicas).toBe(3);
      expect(grafana.spec.template.spec.containers[0].env.filter((e: any) => e.name.startsWith('GF_DATABASE_'))).toEqual([
        { name: 'GF_DATABASE_TYPE', value: 'postgres' }, { name: 'GF_DATABASE_HOST', value: 'pg.db.svc:5432' },
        { name: 'GF_DATABASE_NAME', value: 'grafana' }, { name: 'GF_DATABASE_USER', value: 'grafana' }, { name: 'GF_DATABASE_SSL_MODE', value: 'require' },
        { name: 'GF_DATABASE_PASSWORD', valueFrom: { secretKeyRef: { name: 'grafana-db', key: 'password' } } },
      ]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
