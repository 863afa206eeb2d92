// The pod settings every component takes and the stack's commonLabels, in each rendering: cdk8s applies them
// once to every workload (lib/k8s/pod-settings.ts), the chart through observability-stack.podSettings (its
// scenario 12 is compared object by object with cdk8s by test/helm-parity.test.ts), compose where it has a
// counterpart. The settings come from that scenario's file, whose keys are the model's.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parse, stringify } from 'yaml';
import { COMPOSE_FILES, parseStackConfig, renderCompose, StackInput } from '../lib';
import { podSettingsInput, synthObjects, workloads } from './helpers/stack';
import { helm, templateArgs } from './helm-support';
import { validateManifests } from './support/k8s-schema';
import { podSpecOf, restrictedViolations } from './support/pss';

const input = podSettingsInput();
const objects = synthObjects(input);
const byName = (name: string) => workloads(objects).find((w) => w.metadata.name === name);

describe('pod settings on Kubernetes (cdk8s)', () => {
  test('every setting of every component reaches its pods', () => {
    const app = byName('demo-app').spec.template;
    expect(app.spec.nodeSelector).toEqual({ 'kubernetes.io/os': 'linux' });
    expect(app.spec.tolerations).toEqual([{ key: 'dedicated', operator: 'Equal', value: 'apps', effect: 'NoSchedule' }]);
    expect(app.spec.priorityClassName).toBe('apps-high');
    expect(app.spec.imagePullSecrets).toEqual([{ name: 'regcred' }]);
    expect(app.metadata.annotations).toMatchObject({ 'example.com/owner': 'shop-team', 'prometheus.io/scrape': 'true' });
    expect(app.metadata.labels).toMatchObject({ tier: 'frontend', 'app.kubernetes.io/name': 'demo-app' });
    const prometheus = byName('prometheus').spec.template.spec;
    expect(prometheus.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].weight).toBe(100);
    expect(prometheus.imagePullSecrets).toEqual([{ name: 'regcred' }, { name: 'mirror' }]);
    expect(prometheus.containers[0].env).toEqual([{ name: 'GOMAXPROCS', value: '1' }]);
    expect(byName('loki').spec.template.metadata.annotations).toMatchObject({ 'backup.example.com/skip': 'true' });
    expect(byName('grafana').spec.template.metadata.labels).toMatchObject({ tier: 'ui' });
  });

  test('extra environment comes after the stack\'s own, on the main container only', () => {
    const grafana = byName('grafana').spec.template.spec;
    expect(grafana.containers[0].env.map((e: any) => e.name)).toEqual([
      'GF_SECURITY_ADMIN_USER', 'GF_SECURITY_ADMIN_PASSWORD__FILE', 'GF_AUTH_ANONYMOUS_ENABLED', 'GF_PLUGINS_PREINSTALL_DISABLED',
      'GF_ANALYTICS_REPORTING_ENABLED', 'GF_ANALYTICS_CHECK_FOR_UPDATES',
      'GF_ANALYTICS_CHECK_FOR_PLUGIN_UPDATES', 'GF_NEWS_NEWS_FEED_ENABLED', 'GF_SNAPSHOTS_EXTERNAL_ENABLED', 'GF_SECURITY_DISABLE_GRAVATAR',
      'GF_SECURITY_ALLOW_EMBEDDING', 'GF_USERS_ALLOW_SIGN_UP', 'GF_PLUGINS_PUBLIC_KEY_RETRIEVAL_DISABLED', 'GF_LOG_LEVEL', 'HOME_REF', 'NULL', 'Y',
    ]);
    // Strings stay strings, whatever YAML would make of them unquoted.
    expect(grafana.priorityClassName).toBe('1000');
    expect(grafana.imagePullSecrets).toEqual([{ name: 'no' }]);
    expect(grafana.containers[0].env.find((e: any) => e.name === 'Y')).toEqual({ name: 'Y', value: 'yes' });
    expect(grafana.initContainers[0].env).toBeUndefined();
    expect(byName('demo-app').spec.template.spec.containers[0].env.at(-1)).toEqual({ name: 'LOG_LEVEL', value: 'debug' });
  });

  test('the traffic generator is placed like the app, without the app\'s environment', () => {
    const traffic = byName('demo-app-traffic').spec.template.spec;
    expect(traffic.nodeSelector).toEqual({ 'kubernetes.io/os': 'linux' });
    expect(traffic.imagePullSecrets).toEqual([{ name: 'regcred' }]);
    expect(traffic.containers[0].env.map((e: any) => e.name)).not.toContain('LOG_LEVEL');
  });

  test('the log agent keeps its control-plane tolerations and gets the settings\' after them', () => {
    const agent = byName('promtail').spec.template.spec;
    expect(agent.tolerations.map((t: any) => t.key ?? `(any) ${t.effect}`)).toEqual([
      'node-role.kubernetes.io/control-plane', 'node-role.kubernetes.io/master', '(any) NoExecute',
    ]);
    expect(agent.priorityClassName).toBe('system-node-critical');
    expect(agent.containers[0].env.map((e: any) => e.name)).toEqual(['HOSTNAME', 'GOMEMLIMIT']);
  });

  test('commonLabels are on every object, namespaces included, and on every pod', () => {
    for (const o of objects) {
      expect([o.kind, o.metadata.name, o.metadata.labels]).toEqual([o.kind, o.metadata.name, expect.objectContaining({ team: 'platform', 'example.com/cost-center': '4711' })]);
    }
    for (const w of workloads(objects)) expect(w.spec.template.metadata.labels).toMatchObject({ team: 'platform' });
  });

  test('the selectors are untouched, so the labels added cannot change what a Deployment owns', () => {
    const plain = synthObjects({});
    for (const w of workloads(objects)) {
      const before = workloads(plain).find((p) => p.metadata.name === w.metadata.name);
      if (before) expect(w.spec.selector).toEqual(before.spec.selector);
    }
  });

  test('the manifests stay valid (Kubernetes 1.27 and 1.36) and within Pod Security restricted outside the agent\'s namespace', () => {
    expect(validateManifests(objects, '1.27')).toEqual([]);
    expect(validateManifests(objects, '1.36')).toEqual([]);
    for (const w of workloads(objects).filter((x) => x.metadata.namespace !== 'monitoring-agent')) expect(restrictedViolations(podSpecOf(w))).toEqual([]);
  });
});

describe('pod settings on compose', () => {
  const compose = parse(renderCompose(parseStackConfig(input)).get(COMPOSE_FILES.compose)!);

  test('extraEnv joins each service\'s environment, commonLabels and podLabels become its labels', () => {
    expect(compose.services.loki.environment).toEqual({ GOGC: '50' });
    expect(compose.services.grafana.environment).toMatchObject({ GF_SECURITY_ADMIN_USER: 'admin', GF_LOG_LEVEL: 'warn' });
    // "$" doubled: compose must not interpolate it from the host.
    expect(compose.services.grafana.environment.HOME_REF).toBe('$$(HOME)');
    expect(compose.services['demo-app'].environment).toMatchObject({ PORT: '8080', LOG_LEVEL: 'debug' });
    expect(compose.services['demo-app-traffic'].environment).not.toHaveProperty('LOG_LEVEL');
    expect(compose.services.promtail.labels).toEqual({ team: 'platform', 'example.com/cost-center': '4711', logging: 'agent' });
    expect(compose.services.prometheus.labels).toEqual({ team: 'platform', 'example.com/cost-center': '4711' });
  });

  test('nothing compose has no counterpart for leaks into the file', () => {
    const text = JSON.stringify(compose);
    for (const absent of ['nodeSelector', 'tolerations', 'affinity', 'priorityClassName', 'imagePullSecrets', 'regcred']) expect(text).not.toContain(absent);
  });
});

describe('bad pod settings are refused with the rule, by the model and by the chart', () => {
  function modelProblems(bad: StackInput): string[] {
    try {
      parseStackConfig(bad);
      return [];
    } catch (e) {
      return (e as { problems?: string[] }).problems ?? [(e as Error).message];
    }
  }
  function chartStderr(set: string[]): string {
    const r = helm(templateArgs({ setString: set }));
    expect(r.code).not.toBe(0);
    return r.stderr;
  }

  // [what, model input, the model's message, helm --set-string, what helm says]
  const cases: Array<[string, StackInput, string, string, string]> = [
    ['a selector label in podLabels', { app: { podLabels: { 'app.kubernetes.io/name': 'x' } } },
      'app.podLabels["app.kubernetes.io/name"] must not be set: the stack sets it itself, got "x"', 'app.podLabels.app\\.kubernetes\\.io/name=x', 'app.podLabels["app.kubernetes.io/name"] must not be set: the stack sets it itself, got "x"'],
    ['Helm\'s instance label in commonLabels (its selectors use it)', { commonLabels: { 'app.kubernetes.io/instance': 'x' } },
      'commonLabels["app.kubernetes.io/instance"] must not be set: the stack sets it itself, got "x"', 'commonLabels.app\\.kubernetes\\.io/instance=x', 'commonLabels["app.kubernetes.io/instance"] must not be set: the stack sets it itself, got "x"'],
    ['a Pod Security label in commonLabels', { commonLabels: { 'pod-security.kubernetes.io/enforce': 'baseline' } },
      'commonLabels["pod-security.kubernetes.io/enforce"] must not be set: the stack sets it itself, got "baseline"', 'commonLabels.pod-security\\.kubernetes\\.io/enforce=baseline', 'commonLabels["pod-security.kubernetes.io/enforce"] must not be set: the stack sets it itself, got "baseline"'],
    ['a pod label that is also a common label', { commonLabels: { team: 'a' }, grafana: { podLabels: { team: 'b' } } },
      'grafana.podLabels.team must not repeat a key of commonLabels: set it in one of the two, got "b"', 'commonLabels.team=a,grafana.podLabels.team=b', 'grafana.podLabels.team must not repeat a key of commonLabels: set it in one of the two, got "b"'],
    ['a scrape annotation in podAnnotations', { loki: { podAnnotations: { 'prometheus.io/scrape': 'false' } } },
      'loki.podAnnotations["prometheus.io/scrape"] must not be set: the stack sets it itself, got "false"', 'loki.podAnnotations.prometheus\\.io/scrape=false', 'loki.podAnnotations["prometheus.io/scrape"] must not be set: the stack sets it itself, got "false"'],
    ['an environment variable the stack sets', { grafana: { extraEnv: { GF_SECURITY_ADMIN_PASSWORD: 'x' } } },
      'grafana.extraEnv.GF_SECURITY_ADMIN_PASSWORD must not be set: the stack sets it itself, got "x"', 'grafana.extraEnv.GF_SECURITY_ADMIN_PASSWORD=x', 'grafana.extraEnv.GF_SECURITY_ADMIN_PASSWORD must not be set: the stack sets it itself, got "x"'],
    ['the agent\'s HOSTNAME', { logAgent: { extraEnv: { HOSTNAME: 'x' } } },
      'logAgent.extraEnv.HOSTNAME must not be set: the stack sets it itself, got "x"', 'logAgent.extraEnv.HOSTNAME=x', 'logAgent.extraEnv.HOSTNAME must not be set: the stack sets it itself, got "x"'],
    ['a label key that is not one', { commonLabels: { 'bad key!': 'x' } },
      'commonLabels["bad key!"]: keys must be label keys such as "team" or "example.com/team", got the key "bad key!"', 'commonLabels.bad\\ key!=x', "invalid propertyName 'bad key!'"],
    ['a priority class that is no name', { loki: { priorityClassName: 'High Priority' } },
      'loki.priorityClassName must be a PriorityClass name (a DNS subdomain) or "", got "High Priority"', 'loki.priorityClassName=High Priority', "at '/loki/priorityClassName'"],
    ['a pull secret that is no name', { prometheus: { imagePullSecrets: ['Reg_Cred'] } },
      'prometheus.imagePullSecrets[0] must be Secret names (DNS-1123 labels), got "Reg_Cred"', 'prometheus.imagePullSecrets[0]=Reg_Cred', "at '/prometheus/imagePullSecrets/0'"],
  ];

  test.each(cases)('%s', (_what, bad, model, set, chart) => {
    expect(modelProblems(bad)).toEqual([model]);
    expect(chartStderr([set])).toContain(chart);
  });

  test('a toleration operator that does not exist (the model)', () => {
    expect(modelProblems({ loki: { tolerations: [{ operator: 'Maybe' as 'Exists' }] } })).toEqual(['loki.tolerations[0].operator must be "Exists" or "Equal", got "Maybe"']);
  });

  // What the API server's ValidateTolerations refuses, refused before: by the model, and by the chart's schema.
  test.each([
    ['no key and not Exists', [{ value: 'x' }], 'loki.tolerations[0].operator must be "Exists" when the toleration has no key, got nothing'],
    ['a value with Exists', [{ key: 'a', operator: 'Exists', value: 'x' }], 'loki.tolerations[0].value must be empty when the operator is "Exists", got "x"'],
    ['tolerationSeconds without NoExecute', [{ operator: 'Exists', effect: 'NoSchedule', tolerationSeconds: 5 }], 'loki.tolerations[0].tolerationSeconds needs effect "NoExecute", got 5'],
  ] as const)('a toleration with %s', (_what, tolerations, message) => {
    expect(modelProblems({ loki: { tolerations: tolerations as any } })).toEqual([message]);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'obs-tol-'));
    try {
      const file = path.join(dir, 'values.yaml');
      fs.writeFileSync(file, stringify({ loki: { tolerations } }));
      const r = helm(templateArgs({ valuesFiles: [file] }));
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain("at '/loki/tolerations/0'");
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

test('an object\'s own labels win over commonLabels: the ServiceMonitor keeps the release label the operator selects on', () => {
  const objects = synthObjects({ commonLabels: { release: 'common', team: 'a' }, app: { serviceMonitor: { enabled: true, labels: { release: 'kps' } } } });
  const monitor = objects.find((o) => o.kind === 'ServiceMonitor');
  expect(monitor.metadata.labels).toMatchObject({ release: 'kps', team: 'a' });
});
