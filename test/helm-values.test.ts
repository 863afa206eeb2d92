/**
 * The chart's values, with the real helm binary: `helm lint --strict` passes with the defaults and every ci/
 * scenario; values.schema.json stops helm on an unknown key or a bad value, naming it; the rules across
 * settings (templates/_validate.tpl) stop it in the model's words; and the schema accepts and rejects what
 * the model does (checked with Ajv, case by case, without helm).
 */
import * as fs from 'fs';
import * as path from 'path';
import Ajv from 'ajv';
import { parse } from 'yaml';
import { parseStackConfig, resourceBlocks, StackConfigError, StackInput } from '../lib';
import { ChartValues, valuesToStackInput } from '../lib/helm/values';
import { CHART_DIR, defaultValues, helm, mergeValues, scenarios, templateArgs } from './helm-support';

/** helm template with extra --set / --set-string; returns helm's exit code and stderr. */
function templateWith(set: string[], setString: string[] = [], namespace = 'monitoring') {
  const r = helm(templateArgs({ set, setString, namespace }));
  return { code: r.code, stderr: r.stderr };
}

describe('helm lint --strict', () => {
  test('passes on the chart with its defaults', () => {
    const r = helm(['lint', '--strict', CHART_DIR, '--namespace', 'monitoring']);
    expect(r.stdout + r.stderr).not.toMatch(/\[(WARNING|ERROR)\]/);
    expect({ code: r.code, out: r.stdout }).toEqual({ code: 0, out: expect.stringContaining('1 chart(s) linted, 0 chart(s) failed') });
  });

  test.each(scenarios().map((s) => [s.file, s] as const))('passes with ci/%s', (_file, s) => {
    const r = helm(['lint', '--strict', CHART_DIR, '--namespace', s.namespace, '--values', s.path]);
    expect(r.stdout + r.stderr).not.toMatch(/\[(WARNING|ERROR)\]/);
    expect(r.code).toBe(0);
  });

  test('fails on a value the schema rejects, naming it', () => {
    const r = helm(['lint', '--strict', CHART_DIR, '--set', 'loki.retentionDays=0']);
    expect(r.code).not.toBe(0);
    expect(r.stdout + r.stderr).toMatch(/\/loki\/retentionDays/);
  });
});

describe('values.schema.json stops helm', () => {
  // [what, --set, --set-string, the JSON pointer helm names, what it says]
  const cases: Array<[string, string[], string[], string, RegExp]> = [
    ['an unknown key in a component block', ['grafana.replicaCount=3'], [], '/grafana', /additional properties 'replicaCount' not allowed/],
    ['an unknown key in a nested block', ['prometheus.storage.sizeGi=8'], [], '/prometheus/storage', /additional properties 'sizeGi' not allowed/],
    ['an unknown top-level key', ['thanos.enabled=true'], [], '', /additional properties 'thanos' not allowed/],
    ['a number out of range', ['prometheus.retentionDays=0'], [], '/prometheus/retentionDays', /minimum: got 0, want 1/],
    ['a value outside the enum', ['grafana.service.type=LoadBalancer'], [], '/grafana/service/type', /value must be one of 'ClusterIP', 'NodePort'/],
    ['a value that breaks a pattern', [], ['app.namespace=Demo_NS'], '/app/namespace', /'Demo_NS' does not match pattern/],
    ['the "latest" tag', [], ['loki.image.tag=latest'], '/loki/image/tag', /'not' failed/],
    ['a CPU quantity given as a number', ['prometheus.resources.limits.cpu=2'], [], '/prometheus/resources/limits/cpu', /got number, want string/],
    ['a malformed digest', [], ['grafana.image.digest=sha256:xyz'], '/grafana/image/digest', /does not match pattern/],
    ['a remote-write endpoint that is not a URL', [], ['prometheus.remoteWrite.mimir.url=mimir:9009'], '/prometheus/remoteWrite/mimir/url', /does not match pattern/],
    ['a remote-write endpoint with an unknown key', [], ['prometheus.remoteWrite.mimir.url=https://m.example/push', 'prometheus.remoteWrite.mimir.token=x'], '/prometheus/remoteWrite/mimir', /additional properties 'token' not allowed/],
    ['a key set to null (deleted)', ['app.image.tag=null'], [], '/app/image', /missing property 'tag'/],
    ['logAgent.kind neither promtail nor alloy', [], ['logAgent.kind=fluent-bit'], '/logAgent/kind', /value must be one of 'promtail', 'alloy'/],
    ['a kube-state-metrics allowlist that is not resource=[label,...]', [], ['kubeStateMetrics.metricLabelsAllowlist=pods=app'], '/kubeStateMetrics/metricLabelsAllowlist', /does not match pattern/],
    ['a kube-state-metrics allowlist of "*"', [], ['kubeStateMetrics.metricLabelsAllowlist=pods=[app.kubernetes.io/name\\,app]\\,deployments=[*]'], '/kubeStateMetrics/metricLabelsAllowlist', /'not' failed/],
    ['a kube-state-metrics allowlist without the app labels', [], ['kubeStateMetrics.metricLabelsAllowlist=pods=[team]'], '/kubeStateMetrics/metricLabelsAllowlist', /does not match pattern/],
    ['a kubelet scrape interval below 10 s', ['kubelet.scrapeIntervalSeconds=5'], [], '/kubelet/scrapeIntervalSeconds', /minimum: got 5, want 10/],
    ['a relative kubelet CA file', [], ['kubelet.tls.caFile=ca.crt'], '/kubelet/tls/caFile', /does not match pattern/],
  ];

  test.each(cases)('%s', (_what, set, setString, pointer, message) => {
    const r = templateWith(set, setString);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("values don't meet the specifications of the schema");
    expect(r.stderr).toContain(`at '${pointer}'`);
    expect(r.stderr).toMatch(message);
  });
});

describe('the rules across settings stop helm in the model\'s words', () => {
  /** The problems the model reports for a --set list expressed as model input. */
  function modelProblems(input: StackInput): string[] {
    try {
      parseStackConfig(input);
      return [];
    } catch (e) {
      if (!(e instanceof StackConfigError)) throw e;
      return e.problems;
    }
  }

  // [what, --set, --set-string, the same settings for the model]
  const cases: Array<[string, string[], string[], StackInput]> = [
    ['scrape timeout above the interval', ['prometheus.scrapeTimeoutSeconds=20'], [], { prometheus: { scrapeTimeoutSeconds: 20 } }],
    ['retention size not below the volume', [], ['prometheus.retentionSize=8GB'], { prometheus: { retentionSize: '8GB' } }],
    // The value judged is a default the user did not set: both say so.
    ['a volume below the default retention size', [], ['prometheus.storage.size=2Gi'], { prometheus: { storage: { size: '2Gi' } } }],
    // "(the default)" means "equals the default" in both, whether the user left it or wrote it.
    ['a default scrape timeout written out, above a lower interval', ['prometheus.scrapeIntervalSeconds=5', 'prometheus.scrapeTimeoutSeconds=10'], [], { prometheus: { scrapeIntervalSeconds: 5, scrapeTimeoutSeconds: 10 } }],
    ['a CPU request above its limit', [], ['grafana.resources.requests.cpu=2'], { grafana: { resources: { requests: { cpu: '2' } } } }],
    ['a memory request above its limit', [], ['logAgent.promtail.resources.requests.memory=1Gi'], { logAgent: { promtail: { resources: { requests: { memory: '1Gi' } } } } }],
    ['the log agent in the app\'s namespace', [], ['logAgent.namespace=demo'], { logAgent: { namespace: 'demo' } }],
    ['a ServiceMonitor without the app', ['app.enabled=false', 'app.serviceMonitor.enabled=true'], [], { app: { enabled: false, serviceMonitor: { enabled: true } } }],
    ['a webhook receiver without its Secret', ['alertmanager.receivers.webhook.enabled=true'], [], { alertmanager: { receivers: { webhook: { enabled: true } } } }],
    ['a Slack receiver without its Secret', ['alertmanager.receivers.slack.enabled=true'], [], { alertmanager: { receivers: { slack: { enabled: true } } } }],
    ['an SMTP password without a user', [], ['alertmanager.receivers.email.authPasswordSecret.name=smtp'], { alertmanager: { receivers: { email: { authPasswordSecret: { name: 'smtp' } } } } }],
    ['an SMTP user without its password Secret', [], ['alertmanager.receivers.email.authUsername=alerts@example.com'], { alertmanager: { receivers: { email: { authUsername: 'alerts@example.com' } } } }],
    ['a group interval above the repeat interval', ['alertmanager.groupIntervalSeconds=7200', 'alertmanager.repeatIntervalSeconds=3600'], [], { alertmanager: { groupIntervalSeconds: 7200, repeatIntervalSeconds: 3600 } }],
    ['a group interval above the default repeat interval', ['alertmanager.groupIntervalSeconds=21600'], [], { alertmanager: { groupIntervalSeconds: 21600 } }],
    ['kubelet TLS verification with no CA', ['kubelet.tls.verify=true'], [], { kubelet: { tls: { verify: true } } }],
    ['a stack label on kube-state-metrics\' pods', [], ['kubeStateMetrics.podLabels.app\\.kubernetes\\.io/name=x'], { kubeStateMetrics: { podLabels: { 'app.kubernetes.io/name': 'x' } } }],
    ['a scrape annotation on kube-state-metrics\' pods', [], ['kubeStateMetrics.podAnnotations.prometheus\\.io/scrape=true'], { kubeStateMetrics: { podAnnotations: { 'prometheus.io/scrape': 'true' } } }],
    ['HOST_IP in node-exporter\'s extraEnv (it listens on the node\'s address from it)', [], ['nodeExporter.extraEnv.HOST_IP=0.0.0.0'], { nodeExporter: { extraEnv: { HOST_IP: '0.0.0.0' } } }],
    ['a kubelet CA without verification', [], ['kubelet.tls.caFile=/etc/ca.crt'], { kubelet: { tls: { caFile: '/etc/ca.crt' } } }],
    ['a scrape timeout above the kubelet jobs\' interval', ['prometheus.scrapeIntervalSeconds=60', 'prometheus.scrapeTimeoutSeconds=45'], [], { prometheus: { scrapeIntervalSeconds: 60, scrapeTimeoutSeconds: 45 } }],
    ['an agent batch over Loki\'s burst', ['logAgent.push.batchSizeMb=3', 'loki.ingestionLimits.burstSizeMb=2'], [], { logAgent: { push: { batchSizeMb: 3 } }, loki: { ingestionLimits: { burstSizeMb: 2 } } }],
    ['an agent batch over a stream\'s burst', ['logAgent.push.batchSizeMb=2', 'loki.ingestionLimits.perStreamBurstMb=1'], [], { logAgent: { push: { batchSizeMb: 2 } }, loki: { ingestionLimits: { perStreamBurstMb: 1 } } }],
    ['a first retry wait above the longest', ['logAgent.push.minBackoffSeconds=30', 'logAgent.push.maxBackoffSeconds=10'], [], { logAgent: { push: { minBackoffSeconds: 30, maxBackoffSeconds: 10 } } }],
    ['more than one Grafana on SQLite', ['grafana.replicas=2'], [], { grafana: { replicas: 2 } }],
    ['more than one Loki on the filesystem', ['loki.replicas=3'], [], { loki: { replicas: 3 } }],
    ['a Loki of the user\'s and the stack\'s own at once', [], ['loki.external.url=http://loki-gateway.loki.svc'], { loki: { external: { url: 'http://loki-gateway.loki.svc' } } }],
    ['a tenant without a Loki to send it to', ['loki.enabled=false'], ['loki.external.tenant=team-a'], { loki: { enabled: false, external: { tenant: 'team-a' } } }],
    ['Grafana on a store that nothing feeds', [], ['grafana.prometheusQuery.url=http://thanos-query.thanos.svc:10902'], { grafana: { prometheusQuery: { url: 'http://thanos-query.thanos.svc:10902' } } }],
    // A Prometheus of the user's (prometheus.enabled false).
    ['Grafana with no Prometheus of the stack\'s and no store to read', ['prometheus.enabled=false'], ['prometheus.scraper.namespace=kps'], { prometheus: { enabled: false, scraper: { namespace: 'kps' } } }],
    ['network policies with no namespace for the user\'s Prometheus', ['prometheus.enabled=false'], ['grafana.prometheusQuery.url=http://mimir.mimir.svc:8080/prometheus'], { prometheus: { enabled: false }, grafana: { prometheusQuery: { url: 'http://mimir.mimir.svc:8080/prometheus' } } }],
    ['remote write from a Prometheus the stack does not run', ['prometheus.enabled=false', 'grafana.enabled=false'], ['prometheus.scraper.namespace=kps', 'prometheus.remoteWrite.mimir.url=http://mimir.mimir.svc:8080/api/v1/push'], { prometheus: { enabled: false, scraper: { namespace: 'kps' }, remoteWrite: [{ name: 'mimir', url: 'http://mimir.mimir.svc:8080/api/v1/push' }] }, grafana: { enabled: false } }],
    ['a stack label among the PrometheusRule\'s labels', [], ['prometheus.prometheusRule.labels.app\\.kubernetes\\.io/name=x'], { prometheus: { prometheusRule: { labels: { 'app.kubernetes.io/name': 'x' } } } }],
    ['a scraper named while the stack\'s Prometheus scrapes', [], ['prometheus.scraper.namespace=kps'], { prometheus: { scraper: { namespace: 'kps' } } }],
    ...((['host', 'passwordSecret.name', 'adminPasswordSecret.name'] as const).map((missing): [string, string[], string[], StackInput] => {
      const admin = missing === 'adminPasswordSecret.name' ? {} : { adminPasswordSecret: { name: 'grafana-admin', key: 'password' } };
      const postgres = { enabled: true, ...(missing === 'host' ? {} : { host: 'pg.db.svc:5432' }), ...(missing === 'passwordSecret.name' ? {} : { passwordSecret: { name: 'grafana-db' } }) };
      const setString = [
        ...(missing === 'host' ? [] : ['grafana.postgres.host=pg.db.svc:5432']),
        ...(missing === 'passwordSecret.name' ? [] : ['grafana.postgres.passwordSecret.name=grafana-db']),
        ...(missing === 'adminPasswordSecret.name' ? [] : ['grafana.adminPasswordSecret.name=grafana-admin', 'grafana.adminPasswordSecret.key=password']),
      ];
      return [`Grafana on PostgreSQL without ${missing}`, ['grafana.postgres.enabled=true'], setString, { grafana: { ...admin, postgres } }];
    })),
    // loki.storage.s3 with all but one of what it needs.
    ...((['since', 'endpoint', 'bucket', 'credentialsSecret.name'] as const).map((missing): [string, string[], string[], StackInput] => {
      const given: Record<string, string> = { since: '2027-01-01', endpoint: 'rustfs.storage.svc:9000', bucket: 'loki-chunks', 'credentialsSecret.name': 'loki-s3' };
      delete given[missing];
      const s3: Record<string, unknown> = { enabled: true, ...Object.fromEntries(Object.entries(given).filter(([k]) => !k.includes('.'))) };
      if (given['credentialsSecret.name']) s3.credentialsSecret = { name: given['credentialsSecret.name'] };
      return [`Loki on S3 without ${missing}`, ['loki.storage.s3.enabled=true'], Object.entries(given).map(([k, v]) => `loki.storage.s3.${k}=${v}`), { loki: { storage: { s3 } } }];
    })),
    ['Loki\'s keys from a Secret and from the pod\'s identity at once', ['loki.storage.s3.enabled=true', 'loki.storage.s3.workloadIdentity=true'],
      ['loki.storage.s3.since=2027-01-01', 'loki.storage.s3.endpoint=s3.eu-west-1.amazonaws.com', 'loki.storage.s3.bucket=loki-chunks', 'loki.storage.s3.credentialsSecret.name=loki-s3'],
      { loki: { storage: { s3: { enabled: true, workloadIdentity: true, since: '2027-01-01', endpoint: 's3.eu-west-1.amazonaws.com', bucket: 'loki-chunks', credentialsSecret: { name: 'loki-s3' } } } } }],
  ];

  test('Loki\'s S3 rules do not apply while Loki is off, in the chart as in the model', () => {
    expect(templateWith(['loki.storage.s3.enabled=true'], []).code).not.toBe(0);
    const off = templateWith(['loki.storage.s3.enabled=true', 'loki.enabled=false'], []);
    expect(off.stderr).toBe('');
    expect(off.code).toBe(0);
  });

  test('without the stack\'s Prometheus, Grafana\'s store needs no remote write of the stack\'s; the rule holds with it', () => {
    const store = ['grafana.prometheusQuery.url=http://mimir.mimir.svc:8080/prometheus'];
    expect(templateWith([], store).code).not.toBe(0);
    const off = templateWith(['prometheus.enabled=false'], [...store, 'prometheus.scraper.namespace=kps']);
    expect(off.stderr).toBe('');
    expect(off.code).toBe(0);
    expect(modelProblems({ prometheus: { enabled: false, scraper: { namespace: 'kps' } }, grafana: { prometheusQuery: { url: 'http://mimir.mimir.svc:8080/prometheus' } } })).toEqual([]);
  });

  test('a release upgraded with --reuse-values is judged as the templates render it: an absent block is off, an absent prometheus.enabled is on', () => {
    // No kubelet block (a chart before it): no kubelet jobs, so a timeout above their interval is no problem.
    const absentKubelet = templateWith(['kubelet=null', 'prometheus.scrapeIntervalSeconds=60', 'prometheus.scrapeTimeoutSeconds=45'], []);
    expect(absentKubelet.stderr).toBe('');
    expect(absentKubelet.code).toBe(0);
    // The check can fail: with the kubelet jobs on, the same timeout is refused.
    expect(templateWith(['prometheus.scrapeIntervalSeconds=60', 'prometheus.scrapeTimeoutSeconds=45'], []).code).not.toBe(0);
    // No prometheus.enabled (a chart before it): the stack's Prometheus runs, and its rules apply.
    const absentSwitch = templateWith(['prometheus.enabled=null'], ['grafana.prometheusQuery.url=http://mimir.mimir.svc:8080/prometheus']);
    expect(absentSwitch.stderr).toContain('grafana.prometheusQuery.url needs prometheus.remoteWrite set');
  });

  test('the receivers\' rules do not apply while Alertmanager is off, in the chart as in the model', () => {
    const set = ['alertmanager.receivers.webhook.enabled=true'];
    expect(templateWith(set, []).code).not.toBe(0);
    const off = templateWith([...set, 'alertmanager.enabled=false'], []);
    expect(off.stderr).toBe('');
    expect(off.code).toBe(0);
  });

  test.each(cases)('%s', (_what, set, setString, input) => {
    const expected = modelProblems(input);
    expect(expected).toHaveLength(1);
    const r = templateWith(set, setString);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('Invalid values:');
    const model = expected[0];
    // remoteWrite is a list in the model and a map keyed by the queue's name in the chart: the value judged reads differently.
    expect(r.stderr).toContain(`  - ${(input.prometheus as any)?.remoteWrite ? model.replace(/, got .*$/, ', got ') : model}`);
  });

  test('the blocks the chart checks are every `resources` object of values.schema.json', () => {
    const schema = JSON.parse(fs.readFileSync(path.join(CHART_DIR, 'values.schema.json'), 'utf8'));
    const found: string[] = [];
    const walk = (s: any, at: string[]) => {
      for (const [k, sub] of Object.entries<any>(s.properties ?? {})) {
        if (k === 'resources') found.push([...at, k].join('.'));
        else walk(sub, [...at, k]);
      }
    };
    walk(schema, []);
    const checked = parse(fs.readFileSync(path.join(CHART_DIR, 'files/validate/resource-settings.yaml'), 'utf8')).settings;
    expect(found.sort()).toEqual([...checked].sort());
    expect(found).toContain('logAgent.alloy.resources');
  });

  // Every requests/limits block of values.yaml, found by walking the values (Alloy's was once forgotten).
  test.each(resourceBlocks(defaultValues()).map(([p]) => [p]))('a CPU request above its limit in %s: the chart refuses it as the model does', (block) => {
    const input = block.split('.').reduceRight<any>((inner, key) => ({ [key]: inner }), { requests: { cpu: '4' } });
    const expected = modelProblems(input);
    expect(expected).toEqual([expect.stringMatching(new RegExp(`^${block.replace(/\./g, '\\.')}\\.requests\\.cpu must be at most`))]);
    const r = templateWith([], [`${block}.requests.cpu=4`]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(`  - ${expected[0]}`);
  });

  test('the log agent in the release namespace', () => {
    const r = templateWith([], [], 'monitoring-agent');
    expect(r.code).not.toBe(0);
    // On Helm, namespace is the release namespace.
    expect(r.stderr).toContain('logAgent.namespace must differ from namespace (monitoring-agent) and app.namespace (demo): the agent\'s namespace is Pod Security "privileged", the others stay "restricted", got "monitoring-agent" (the default)');
  });

  test('lists every broken rule at once', () => {
    const r = templateWith(['prometheus.scrapeTimeoutSeconds=20'], ['loki.resources.requests.cpu=2']);
    expect(r.stderr).toContain('  - prometheus.scrapeTimeoutSeconds must be at most prometheus.scrapeIntervalSeconds (15), got 20');
    expect(r.stderr).toContain('  - loki.resources.requests.cpu must be at most loki.resources.limits.cpu (1), got "2"');
  });

  test('quantities compare by value, not by text: 1500m is above 1, 1024Mi equals 1Gi', () => {
    expect(templateWith([], ['loki.resources.requests.cpu=1500m']).stderr).toContain('loki.resources.requests.cpu must be at most loki.resources.limits.cpu (1), got "1500m"');
    expect(templateWith([], ['loki.resources.requests.cpu=0.5', 'loki.resources.requests.memory=1024Mi']).code).toBe(0);
  });
});

describe('values.schema.json mirrors the model', () => {
  const schema = JSON.parse(fs.readFileSync(path.join(CHART_DIR, 'values.schema.json'), 'utf8'));
  const validate = new Ajv({ strict: false, allErrors: true }).compile(schema);
  const defaults = defaultValues();

  /** Does the schema accept these values (over the defaults)? Does the model accept the same settings? */
  function verdicts(over: Record<string, any>): { schema: boolean; model: boolean } {
    const values = mergeValues(defaults, over) as ChartValues;
    const schemaOk = validate(values) as boolean;
    let modelOk = true;
    try {
      parseStackConfig(valuesToStackInput(values, 'monitoring'));
    } catch {
      modelOk = false;
    }
    return { schema: schemaOk, model: modelOk };
  }

  test('accepts the defaults and every ci/ scenario', () => {
    expect(validate(defaults)).toBe(true);
    for (const s of scenarios()) expect({ file: s.file, ok: validate(mergeValues(defaults, s.values)), errors: validate.errors }).toEqual({ file: s.file, ok: true, errors: null });
  });

  // Single-setting edits at and across the model's bounds; both must agree on each.
  const edits: Array<Record<string, any>> = [
    { app: { replicas: 50 } }, { app: { replicas: 51 } }, { app: { replicas: 0 } }, { app: { replicas: 1.5 } },
    { app: { port: 1024 } }, { app: { port: 1023 } }, { app: { port: 65536 } },
    { app: { errorRate: 1 } }, { app: { errorRate: 1.01 } }, { app: { errorRate: -0.1 } },
    { app: { metricsPath: '/m' } }, { app: { metricsPath: 'metrics' } },
    { app: { name: 'a'.repeat(63) } }, { app: { name: 'a'.repeat(64) } }, { app: { name: '-app' } },
    { app: { image: { repository: 'Registry.example/App' } } }, { app: { image: { repository: 'registry.example.com:5000/team/app' } } },
    { app: { image: { tag: 'v1.2.3_rc-1' } } }, { app: { image: { tag: '.hidden' } } }, { app: { image: { tag: 'latest' } } },
    { app: { image: { pullPolicy: 'Never' } } }, { app: { image: { pullPolicy: 'Sometimes' } } },
    { app: { trafficGenerator: { requestsPerSecond: 1000 } } }, { app: { trafficGenerator: { requestsPerSecond: 1001 } } },
    { app: { serviceMonitor: { labels: { release: 'kps' } } } }, { app: { serviceMonitor: { labels: { release: 1 } } } },
    { prometheus: { scrapeIntervalSeconds: 3600 } }, { prometheus: { scrapeIntervalSeconds: 3601 } },
    { prometheus: { retentionDays: 3650 } }, { prometheus: { retentionDays: 3651 } },
    { grafana: { prometheusQuery: { url: 'mimir:8080' } } }, { grafana: { prometheusQuery: { type: 'VictoriaMetrics' } } }, { grafana: { prometheusQuery: { tenant: 'a b' } } }, { grafana: { prometheusQuery: { tenant: 'team-a' } } },
    { prometheus: { maxExemplars: 0 } }, { prometheus: { maxExemplars: 1_000_000 } }, { prometheus: { maxExemplars: 1_000_001 } }, { prometheus: { maxExemplars: 1.5 } }, { prometheus: { maxExemplars: -1 } },
    { prometheus: { retentionSize: '512MB' } }, { prometheus: { retentionSize: '4Gi' } },
    { prometheus: { storage: { size: '100Gi' } } }, { prometheus: { storage: { size: '100G' } } },
    { prometheus: { storage: { storageClassName: 'fast-ssd' } } }, { prometheus: { storage: { storageClassName: 'Fast' } } },
    { prometheus: { resources: { requests: { cpu: '0.125' } } } }, { prometheus: { resources: { requests: { cpu: '0.1255' } } } },
    { prometheus: { resources: { requests: { memory: '512M' } } } },
    { prometheus: { remoteWrite: { mimir: { url: 'https://mimir.example.com/api/v1/push' } } } },
    { prometheus: { remoteWrite: { Mimir: { url: 'https://mimir.example.com/api/v1/push' } } } },
    { prometheus: { remoteWrite: Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`rw${i}`, { url: 'http://x.example/push' }])) } },
    { prometheus: { remoteWrite: Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`rw${i}`, { url: 'http://x.example/push' }])) } },
    { loki: { retentionDays: 0 } }, { loki: { enabled: 'yes' } },
    // loki.storage.s3 (the rules across its settings are below, with helm): a good one, then bad values.
    ...((s3: Record<string, unknown>) => [
      { loki: { storage: { s3 } } },
      { loki: { enabled: false, storage: { s3: { enabled: true } } } },
      { loki: { storage: { s3: { ...s3, since: '2025-02-29' } } } }, { loki: { storage: { s3: { ...s3, since: '2028-02-29' } } } },
      { loki: { storage: { s3: { ...s3, since: '2024-12-31' } } } }, { loki: { storage: { s3: { ...s3, since: '2027-1-1' } } } },
      { loki: { storage: { s3: { ...s3, since: '2027-04-31' } } } },
      { loki: { storage: { s3: { ...s3, endpoint: 'https://s3.example.com' } } } }, { loki: { storage: { s3: { ...s3, endpoint: '10.0.0.7:9000' } } } },
      { loki: { storage: { s3: { ...s3, bucket: 'Loki_Chunks' } } } }, { loki: { storage: { s3: { ...s3, bucket: 'lk' } } } },
      { loki: { storage: { s3: { ...s3, region: 'EU-WEST-1' } } } }, { loki: { storage: { s3: { ...s3, pathStyle: 'yes' } } } },
      { loki: { storage: { s3: { ...s3, credentialsSecret: { name: 'loki-s3', accessKeyIdKey: 'access key' } } } } },
      { loki: { storage: { s3: { ...s3, bucketName: 'x' } } } },
      // The pod's identity instead of a Secret, and the ServiceAccount's annotations.
      { loki: { serviceAccount: { annotations: { 'eks.amazonaws.com/role-arn': 'arn:aws:iam::111122223333:role/loki' } }, storage: { s3: { ...s3, workloadIdentity: true, credentialsSecret: {} } } } },
      { loki: { storage: { s3: { ...s3, workloadIdentity: 'yes' } } } },
      { loki: { serviceAccount: { annotations: { 'eks.amazonaws.com/role arn': 'x' } } } }, { loki: { serviceAccount: { name: 'mine' } } },
    ])({ enabled: true, since: '2027-01-01', endpoint: 'rustfs.storage.svc:9000', bucket: 'loki-chunks', credentialsSecret: { name: 'loki-s3' } }),
    { logAgent: { namespace: 'logs' } }, { logAgent: { namespace: 'Logs' } },
    { grafana: { adminUser: 'ops@example.com' } }, { grafana: { adminUser: 'ops admin' } }, { grafana: { adminUser: 'a'.repeat(65) } },
    { grafana: { adminPasswordSecret: { name: 'grafana-admin', key: 'admin.password' } } },
    { grafana: { adminPasswordSecret: { name: 'grafana-admin', key: 'admin password' } } },
    { grafana: { adminPasswordSecret: { name: 'Grafana' } } },
    { grafana: { service: { type: 'NodePort', nodePort: 30000 } } }, { grafana: { service: { nodePort: 29999 } } }, { grafana: { service: { nodePort: 32768 } } },
    { clusterDomain: 'cluster.example' }, { clusterDomain: 'cluster..local' },
    { alertmanager: { enabled: false } }, { alertmanager: { enabled: 'no' } },
    { alertmanager: { groupWaitSeconds: 0 } }, { alertmanager: { groupWaitSeconds: -1 } }, { alertmanager: { repeatIntervalSeconds: 59 } },
    { alertmanager: { receivers: { slack: { channel: '#ops-alerts' } } } }, { alertmanager: { receivers: { slack: { channel: 'ops alerts' } } } },
    { alertmanager: { receivers: { email: { to: 'a@example.com, b@example.com' } } } }, { alertmanager: { receivers: { email: { to: 'a@example.com;b@example.com' } } } },
    { alertmanager: { receivers: { email: { smarthost: 'smtp.example.com:587' } } } }, { alertmanager: { receivers: { email: { smarthost: 'smtp.example.com' } } } },
    { alertmanager: { receivers: { webhook: { urlSecret: { name: 'hook', key: 'url' } } } } }, { alertmanager: { receivers: { webhook: { urlSecret: { name: 'Hook' } } } } },
    { alertmanager: { receivers: { slack: { apiUrlSecret: { key: 'webhook-url' } } } } }, { alertmanager: { receivers: { slack: { apiUrlSecret: { key: 'webhook url' } } } } },
    { alertmanager: { receivers: { pagerduty: { enabled: true } } } },
    { alertmanager: { storage: { storageClassName: 'fast' } } }, { alertmanager: { image: { tag: 'latest' } } },
    { kubelet: { enabled: false } }, { kubelet: { scrapeIntervalSeconds: 10 } }, { kubelet: { scrapeIntervalSeconds: 9 } }, { kubelet: { scrapeIntervalSeconds: 60 } }, { kubelet: { scrapeIntervalSeconds: 61 } },
    { kubelet: { tls: { caFile: 'relative/ca.crt' } } }, { kubelet: { tls: { insecureSkipVerify: true } } },
    { kubeStateMetrics: { enabled: false } }, { kubeStateMetrics: { metricLabelsAllowlist: 'pods=[app],deployments=[team]' } },
    { kubeStateMetrics: { metricLabelsAllowlist: 'pods=[app.kubernetes.io/name,app],deployments=[team]' } },
    { kubeStateMetrics: { metricLabelsAllowlist: 'pods=app' } }, { kubeStateMetrics: { metricLabelsAllowlist: 'pods=[*]' } }, { kubeStateMetrics: { metricLabelsAllowlist: 'pods=[app,*]' } },
    { kubeStateMetrics: { image: { tag: 'latest' } } }, { kubeStateMetrics: { resources: { requests: { cpu: '10x' } } } },
    { nodeExporter: { enabled: false } }, { nodeExporter: { enabled: 'yes' } }, { nodeExporter: { image: { tag: 'latest' } } },
    { nodeExporter: { resources: { limits: { memory: '64Mi' } } } }, { nodeExporter: { resources: { limits: { memory: 'lots' } } } },
    { nodeExporter: { hostNetwork: false } }, { nodeExporter: { tolerations: [{ operator: 'Exists' }] } }, { nodeExporter: { tolerations: [{ operator: 'Equal' }] } },
    { networkPolicies: { enabled: false } }, { networkPolicies: { enabled: 'no' } }, { networkPolicies: { egress: true } },
    { loki: { ingestionLimits: { rateMb: 0 } } }, { loki: { ingestionLimits: { rateMb: 2.5 } } }, { loki: { ingestionLimits: { perStreamRateMb: 1.5 } } },
    { loki: { ingestionLimits: { maxLineSizeKb: 20000 } } }, { loki: { ingestionLimits: { maxLineSize: '1MB' } } },
    { logAgent: { push: { batchWaitSeconds: 0.05 } } }, { logAgent: { push: { attempts: 0 } } }, { logAgent: { push: { batchSizeMb: 4 } } }, { logAgent: { push: { batchSizeMb: '1MB' } } },
  ];

  test.each(edits.map((e) => [JSON.stringify(e), e] as const))('agrees with the model on %s', (_name, edit) => {
    const v = verdicts(edit);
    expect(v.schema).toBe(v.model);
  });

  test('the edits include rejections (the test can fail)', () => {
    const rejected = edits.filter((e) => !verdicts(e).model);
    expect(rejected.length).toBeGreaterThan(25);
  });
});
