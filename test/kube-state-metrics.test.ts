/**
 * kube-state-metrics: the Deployment and its least-privilege ClusterRole in cdk8s and the chart; its own scrape
 * job, run by the real Prometheus 2.42 against a stand-in serving its exposition format, which keeps the
 * described objects' labels and stamps none of its own pod's; and the `app` recording rule, evaluated by the
 * same Prometheus over the stand-in kubelet's cAdvisor series, giving each container the `app` the pod job (and
 * so the log agent) gives the same pod.
 */
import { parse, stringify } from 'yaml';
import {
  CADVISOR_JOB,
  KUBE_STATE_METRICS_JOB,
  KUBE_STATE_METRICS_RESOURCES,
  KUBERNETES_PODS_JOB,
  parseStackConfig,
  POD_APP_RECORD,
  renderAlertRules,
  renderKubernetesPrometheusConfig,
  RULES_FILE,
  StackInput,
  toYaml,
} from '../lib';
import { helmTemplate } from './helm-support';
import { find, synthObjects } from './helpers/stack';
import { ClusterPod, kubeStateMetricsExposition } from './support/kube-state-metrics';
import { makeCertificates, StandInKubelet, startStandInKubelet } from './support/kubelet';
import { podTarget } from './support/pod-targets';
import { FILE_SD_TOKEN, promtoolCheckConfig, promtoolTestRules, RunningPrometheus, serveMetrics, startPrometheus, TargetGroup, withFileSd } from './support/prometheus';

type Json = any;
const NODE = 'kind-control-plane';

describe('kube-state-metrics in cdk8s and the chart', () => {
  const objects = synthObjects();
  const deployment = find(objects, 'Deployment', 'kube-state-metrics', 'monitoring');
  const container = deployment.spec.template.spec.containers[0];

  test('lists and watches exactly the kinds it is told to serve; never secrets or configmaps, never get', () => {
    const rules = find(objects, 'ClusterRole', 'monitoring-kube-state-metrics').rules;
    const granted = rules.flatMap((r: Json) => r.resources.map((res: string) => `${r.apiGroups[0] || 'core'}/${res}`)).sort();
    expect(granted).toEqual(KUBE_STATE_METRICS_RESOURCES.map((r) => `${r.apiGroup || 'core'}/${r.resource}`).sort());
    for (const r of rules) expect(r.verbs).toEqual(['list', 'watch']);
    expect(granted.filter((g: string) => /secrets|configmaps/.test(g))).toEqual([]);
    const served = container.args.find((a: string) => a.startsWith('--resources=')).slice('--resources='.length).split(',').sort();
    expect(served).toEqual(KUBE_STATE_METRICS_RESOURCES.map((r) => r.resource).sort());
    const binding = find(objects, 'ClusterRoleBinding', 'monitoring-kube-state-metrics');
    expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: deployment.spec.template.spec.serviceAccountName, namespace: 'monitoring' }]);
  });

  test('runs as 65534 in the restricted namespace, probes /livez on 8080 and /readyz on 8081, no prometheus.io annotations', () => {
    expect(deployment.spec.template.spec.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 65534 });
    expect(container.args).toContain('--metric-labels-allowlist=pods=[app.kubernetes.io/name,app]');
    expect(container.ports).toEqual([
      { name: 'http-metrics', containerPort: 8080, protocol: 'TCP' },
      { name: 'telemetry', containerPort: 8081, protocol: 'TCP' },
    ]);
    expect([container.livenessProbe.httpGet, container.readinessProbe.httpGet]).toEqual([{ path: '/livez', port: 'http-metrics' }, { path: '/readyz', port: 'telemetry' }]);
    expect(deployment.spec.template.metadata.annotations ?? {}).toEqual({});
  });

  test('switched off: no objects, no job, no rules that read it; the chart agrees', () => {
    const off: StackInput = { kubeStateMetrics: { enabled: false } };
    const offObjects = synthObjects(off);
    expect(offObjects.filter((o) => o.metadata?.name?.includes('kube-state-metrics'))).toEqual([]);
    const jobs = parse(find(offObjects, 'ConfigMap', 'prometheus-config', 'monitoring').data['prometheus.yml']).scrape_configs.map((j: Json) => j.job_name);
    expect(jobs).not.toContain(KUBE_STATE_METRICS_JOB);
    expect(helmTemplate({ set: ['kubeStateMetrics.enabled=false'] }).filter((o) => o.metadata?.name?.includes('kube-state-metrics'))).toEqual([]);
  });

  test('a custom allowlist reaches its argument, in both renderings', () => {
    const allowlist = 'pods=[app.kubernetes.io/name,app,team],deployments=[team]';
    const cdk8s = find(synthObjects({ kubeStateMetrics: { metricLabelsAllowlist: allowlist } }), 'Deployment', 'kube-state-metrics', 'monitoring').spec.template.spec.containers[0].args;
    // --set-string splits on commas: they are escaped there (a values file takes the string as it is).
    const chart = find(helmTemplate({ setString: [`kubeStateMetrics.metricLabelsAllowlist=${allowlist.replace(/,/g, '\\,')}`] }), 'Deployment', 'kube-state-metrics', 'monitoring').spec.template.spec.containers[0].args;
    expect(cdk8s).toContain(`--metric-labels-allowlist=${allowlist}`);
    expect(chart).toEqual(cdk8s);
  });
});

describe('kube-state-metrics\' job and the `app` rule, run by the real Prometheus', () => {
  // Four ways a pod gets its `app`: app.kubernetes.io/name; only `app`; neither, from its ReplicaSet; a bare pod.
  const PODS: ClusterPod[] = [
    { namespace: 'demo', name: 'demo-app-7d9f8b6c5d-x2x4z', node: NODE, labels: { 'app.kubernetes.io/name': 'demo-app', app: 'legacy' }, createdBy: { kind: 'ReplicaSet', name: 'demo-app-7d9f8b6c5d' }, containers: [{ name: 'app', ready: true, restarts: 0 }] },
    { namespace: 'shop', name: 'cart-6c8d7f9b5b-q1w2e', node: NODE, labels: { app: 'cart-service' }, createdBy: { kind: 'ReplicaSet', name: 'cart-6c8d7f9b5b' }, containers: [{ name: 'cart', ready: true, restarts: 3 }] },
    { namespace: 'shop', name: 'worker-5f7c9d8b4-abcde', node: NODE, labels: { 'pod-template-hash': '5f7c9d8b4' }, createdBy: { kind: 'ReplicaSet', name: 'worker-5f7c9d8b4' }, containers: [{ name: 'worker', ready: false, restarts: 1 }] },
    { namespace: 'default', name: 'debug', node: NODE, labels: {}, containers: [{ name: 'shell', ready: true, restarts: 0 }] },
  ];
  const ALLOWLIST = ['app.kubernetes.io/name', 'app'];
  let prometheus: RunningPrometheus;
  let kubelet: StandInKubelet;
  const servers: Array<{ close: () => Promise<void> }> = [];

  beforeAll(async () => {
    const ksm = await serveMetrics(() => kubeStateMetricsExposition(PODS, ALLOWLIST));
    const app = await serveMetrics('# TYPE my_app_requests_total counter\nmy_app_requests_total 1\n');
    servers.push(ksm, app);
    kubelet = await startStandInKubelet({
      certs: makeCertificates('ksm-kubelet'), token: FILE_SD_TOKEN, node: NODE,
      containers: PODS.flatMap((p) => p.containers.map((c) => ({ namespace: p.namespace, pod: p.name, container: c.name, image: 'x:1' }))),
    });
    const c = parseStackConfig({ prometheus: { scrapeIntervalSeconds: 1, scrapeTimeoutSeconds: 1, evaluationIntervalSeconds: 1 } });
    const config: Json = renderKubernetesPrometheusConfig(c.prometheus, { kubelet: c.kubelet, kubeStateMetricsNamespace: 'monitoring' });
    config.rule_files = ['rules/*.yaml'];
    for (const job of config.scrape_configs) if (job.job_name === CADVISOR_JOB || job.job_name === 'kubelet') job.scrape_interval = '1s';
    const ksmPod = { ip: '127.0.0.1', namespace: 'monitoring', pod: 'kube-state-metrics-6b9d7c5f4-k8s00', container: 'kube-state-metrics', node: NODE, labels: { 'app.kubernetes.io/name': 'kube-state-metrics' } };
    // Each pod's annotated port, as the pod job discovers it (all served by one endpoint here).
    const podTargets: TargetGroup[] = PODS.map((p) => podTarget({
      ip: '127.0.0.1', port: app.port, namespace: p.namespace, pod: p.name, container: p.containers[0].name, node: NODE,
      labels: p.labels, annotations: { 'prometheus.io/scrape': 'true', 'prometheus.io/port': String(app.port) },
      controller: p.createdBy ? p.createdBy.name : null,
    }));
    const { config: swapped, files } = withFileSd(config, {
      [KUBERNETES_PODS_JOB]: podTargets,
      [CADVISOR_JOB]: [{ targets: [`127.0.0.1:${kubelet.port}`], labels: { __meta_kubernetes_node_name: NODE } }],
      [KUBE_STATE_METRICS_JOB]: [
        podTarget({ ...ksmPod, port: ksm.port, portName: 'http-metrics' }),
        // Its telemetry port, and another pod's http-metrics port: not kube-state-metrics' objects.
        podTarget({ ...ksmPod, port: 1, portName: 'telemetry' }),
        podTarget({ ...ksmPod, pod: 'other-exporter-0', labels: { 'app.kubernetes.io/name': 'other-exporter' }, port: 2, portName: 'http-metrics' }),
      ],
    });
    swapped.scrape_configs = swapped.scrape_configs.filter((j: Json) => j.job_name !== 'kubelet');
    expect(promtoolCheckConfig(stringify(swapped), { ...files, [`rules/${RULES_FILE}`]: toYaml(renderAlertRules({ kubeStateMetrics: true })) }).ok).toBe(true);
    prometheus = await startPrometheus({ config: stringify(swapped), files: { ...files, [`rules/${RULES_FILE}`]: toYaml(renderAlertRules({ kubeStateMetrics: true })) } });
    await prometheus.waitFor(async () => (await prometheus.query(`count(${POD_APP_RECORD})`))[0]?.value[1] === String(PODS.length), 30_000, 'the app rule for every pod');
  });

  afterAll(async () => {
    await prometheus?.stop();
    await kubelet?.close();
    for (const s of servers) await s.close();
  });

  test('one target: the kube-state-metrics pod\'s http-metrics port; nothing else it could select', async () => {
    const targets = (await prometheus.targets()).activeTargets.filter((t) => t.labels.job === KUBE_STATE_METRICS_JOB);
    expect(targets.map((t) => t.labels)).toEqual([{ instance: targets[0].labels.instance, job: KUBE_STATE_METRICS_JOB }]);
  });

  test('its series keep the described objects\' namespace and pod (honor_labels), and no app or node of its own pod', async () => {
    const restarts = await prometheus.query('kube_pod_container_status_restarts_total');
    expect(restarts.map((s) => [s.metric.namespace, s.metric.pod, s.metric.container, s.metric.app, s.metric.node]).sort()).toEqual(
      PODS.map((p) => [p.namespace, p.name, p.containers[0].name, undefined, undefined]).sort(),
    );
    const nodes = await prometheus.query('kube_node_info');
    expect(nodes.map((s) => [s.metric.node, s.metric.namespace, s.metric.pod])).toEqual([[NODE, undefined, undefined]]);
  });

  test('the app rule gives each pod the app the pod job gives it: name label, then app label, then controller, then pod name', async () => {
    const fromRule = Object.fromEntries((await prometheus.query(POD_APP_RECORD)).map((s) => [`${s.metric.namespace}/${s.metric.pod}`, s.metric.app]));
    expect(fromRule).toEqual({
      'demo/demo-app-7d9f8b6c5d-x2x4z': 'demo-app',
      'shop/cart-6c8d7f9b5b-q1w2e': 'cart-service',
      'shop/worker-5f7c9d8b4-abcde': 'worker',
      'default/debug': 'debug',
    });
    const up = await prometheus.waitFor(async () => {
      const r = await prometheus.query(`up{job="${KUBERNETES_PODS_JOB}"}`);
      return r.length === PODS.length ? r : undefined;
    }, 30_000, 'every pod scraped once');
    const fromPodJob = Object.fromEntries(up.map((s) => [`${s.metric.namespace}/${s.metric.pod}`, s.metric.app]));
    expect(fromPodJob).toEqual(fromRule);
  });

  test('joined on (namespace, pod), every container\'s CPU series carries the contract: namespace, pod, container, node and app', async () => {
    const joined = await prometheus.waitFor(async () => {
      const r = await prometheus.query(`sum by (namespace, pod, container, node, app) (irate(container_cpu_usage_seconds_total{container!=""}[10s]) * on (namespace, pod) group_left (app) ${POD_APP_RECORD})`);
      return r.length === PODS.length ? r : undefined;
    }, 30_000, 'a CPU rate for every container');
    expect(joined.map((s) => [s.metric.namespace, s.metric.pod, s.metric.container, s.metric.node, s.metric.app]).sort()).toEqual([
      ['default', 'debug', 'shell', NODE, 'debug'],
      ['demo', 'demo-app-7d9f8b6c5d-x2x4z', 'app', NODE, 'demo-app'],
      ['shop', 'cart-6c8d7f9b5b-q1w2e', 'cart', NODE, 'cart-service'],
      ['shop', 'worker-5f7c9d8b4-abcde', 'worker', NODE, 'worker'],
    ]);
  });
});

describe('kube-state-metrics alerts (promtool test rules)', () => {
  const run = (tests: Json) => promtoolTestRules(stringify({ rule_files: [RULES_FILE], evaluation_interval: '1m', tests }), { [RULES_FILE]: toYaml(renderAlertRules({ kubeStateMetrics: true })) });

  test('KubeStateMetricsDown fires when no kube-state-metrics target is up for 15 minutes (gone or failing), quiet while one is', () => {
    const exp_annotations = {
      summary: 'kube-state-metrics cannot be scraped',
      description: 'Prometheus has had no kube-state-metrics target up for 15 minutes: restarts, OOM kills, readiness and the `app` of container series are missing.',
      runbook: 'First: its pod (kubectl -n <stack namespace> get pod -l app.kubernetes.io/name=kube-state-metrics) and its log; 403s there mean its ClusterRole lacks a resource it was told to list.',
    };
    const result = run([
      { interval: '1m', input_series: [{ series: 'up{job="kube-state-metrics",instance="10.244.0.9:8080"}', values: '1x30' }], alert_rule_test: [{ eval_time: '20m', alertname: 'KubeStateMetricsDown', exp_alerts: [] }] },
      { interval: '1m', input_series: [{ series: 'up{job="kube-state-metrics",instance="10.244.0.9:8080"}', values: '0x30' }], alert_rule_test: [{ eval_time: '14m', alertname: 'KubeStateMetricsDown', exp_alerts: [] }, { eval_time: '16m', alertname: 'KubeStateMetricsDown', exp_alerts: [{ exp_labels: { severity: 'warning' }, exp_annotations }] }] },
      { interval: '1m', input_series: [{ series: 'up{job="prometheus"}', values: '1x30' }], alert_rule_test: [{ eval_time: '16m', alertname: 'KubeStateMetricsDown', exp_alerts: [{ exp_labels: { severity: 'warning' }, exp_annotations }] }] },
    ]);
    expect(result.output).toContain('SUCCESS');
    expect(result.ok).toBe(true);
  });

  test('StackComponentNotReady fires for a stack container not ready for 10 minutes (Loki scraped but not ready), not for an app\'s or an evicted pod\'s', () => {
    const ready = (container: string, v: string) => ({ series: `kube_pod_container_status_ready{job="kube-state-metrics",namespace="monitoring",pod="${container}-0",container="${container}",uid="u"}`, values: v });
    const result = run([{
      interval: '1m',
      input_series: [
        ready('loki', '0x20'), ready('grafana', '1x20'),
        { series: 'kube_pod_container_status_ready{job="kube-state-metrics",namespace="shop",pod="cart-0",container="cart",uid="u"}', values: '0x20' },
        // An evicted Grafana pod: not ready for ever, but finished, so not counted.
        { series: 'kube_pod_container_status_ready{job="kube-state-metrics",namespace="monitoring",pod="grafana-old",container="grafana",uid="v"}', values: '0x20' },
        { series: 'kube_pod_status_phase{job="kube-state-metrics",namespace="monitoring",pod="grafana-old",phase="Failed",uid="v"}', values: '1x20' },
      ],
      alert_rule_test: [
        { eval_time: '9m', alertname: 'StackComponentNotReady', exp_alerts: [] },
        {
          eval_time: '11m',
          alertname: 'StackComponentNotReady',
          exp_alerts: [{
            exp_labels: { severity: 'warning', job: 'kube-state-metrics', namespace: 'monitoring', pod: 'loki-0', container: 'loki', uid: 'u' },
            exp_annotations: {
              summary: 'loki (monitoring/loki-0) of the stack is not ready',
              description: 'Its readiness probe has failed for 10 minutes: Kubernetes sends it no traffic through its Service.',
              runbook: 'First: the probe\'s failure in the pod\'s events (kubectl -n monitoring describe pod loki-0), then the container\'s log.',
            },
          }],
        },
      ],
    }]);
    expect(result.output).toContain('SUCCESS');
    expect(result.ok).toBe(true);
  });
});

describe('the containers\' alerts (promtool test rules): each fires on its failure and stays quiet without it', () => {
  const rules = toYaml(renderAlertRules({ kubeStateMetrics: true, kubelet: true }));
  const c = 'namespace="shop",pod="cart-0",container="cart"';
  const ksm = `job="kube-state-metrics",${c},uid="u"`;
  const cadvisor = `job="cadvisor",${c},node="n1",instance="n1",id="/kubepods/c",image="cart:1",name="c"`;
  const series = (bad: boolean) => [
    { series: `kube_pod_container_status_waiting_reason{${ksm},reason="CrashLoopBackOff"}`, values: bad ? '1x30' : '0x30' },
    // kube-state-metrics emits the reason only once it is set, value 1 (internal/store/pod.go:339-360).
    ...(bad ? [{ series: `kube_pod_container_status_last_terminated_reason{${ksm},reason="OOMKilled"}`, values: '_x10 1x20' }] : []),
    { series: `kube_pod_container_status_restarts_total{${ksm}}`, values: bad ? '0x10 1x20' : '0x30' },
    { series: `kube_pod_container_resource_limits{${ksm},node="n1",resource="memory",unit="byte"}`, values: '1000x30' },
    { series: `container_memory_working_set_bytes{${cadvisor}}`, values: bad ? '950x30' : '500x30' },
    { series: `container_cpu_cfs_periods_total{${cadvisor}}`, values: '0+100x30' },
    { series: `container_cpu_cfs_throttled_periods_total{${cadvisor}}`, values: bad ? '0+50x30' : '0+5x30' },
  ];
  const who = { namespace: 'shop', pod: 'cart-0', container: 'cart' };
  const fired: Array<[string, string, Record<string, string>]> = [
    ['KubePodCrashLooping', '20m', { ...who, job: 'kube-state-metrics', uid: 'u', reason: 'CrashLoopBackOff', severity: 'warning' }],
    ['ContainerOOMKilled', '12m', { ...who, job: 'kube-state-metrics', uid: 'u', reason: 'OOMKilled', severity: 'warning' }],
    ['ContainerMemoryNearLimit', '20m', { ...who, severity: 'warning' }],
    ['ContainerCPUThrottlingHigh', '25m', { ...who, severity: 'warning' }],
  ];

  test.each([true, false])('with the failure: %s', (bad) => {
    const tests = [{
      interval: '1m',
      input_series: series(bad),
      alert_rule_test: fired.map(([alertname, eval_time, labels]) => ({ eval_time, alertname, exp_alerts: bad ? [{ exp_labels: labels }] : [] })),
    }];
    // promtool compares the annotations too: expected as a person reads them, the templates filled in.
    const all = renderAlertRules({ kubeStateMetrics: true, kubelet: true }).groups.flatMap((g) => g.rules);
    for (const t of tests[0].alert_rule_test) {
      for (const e of t.exp_alerts as Json[]) {
        const rule = all.find((r) => r.alert === t.alertname)!;
        e.exp_annotations = Object.fromEntries(Object.entries(rule.annotations!).map(([k, v]) => [k, v
          .replace(/\{\{ \$labels\.(\w+) \}\}/g, (_m, l) => e.exp_labels[l] ?? '')
          .replace(/\{\{ \$value \| humanizePercentage \}\}/g, t.alertname === 'ContainerMemoryNearLimit' ? '95%' : '50%')]));
      }
    }
    const result = promtoolTestRules(stringify({ rule_files: [RULES_FILE], evaluation_interval: '1m', tests }), { [RULES_FILE]: rules });
    expect(result.output).toContain('SUCCESS');
    expect(result.ok).toBe(true);
  });

  test('the four are every alert of the containers group', () => {
    expect(fired.map(([a]) => a).sort()).toEqual(renderAlertRules({ kubeStateMetrics: true, kubelet: true }).groups.find((g) => g.name === 'containers')!.rules.map((r) => r.alert).sort());
  });

  test('ContainerOOMKilled: only while the OOM-killed container restarts, not for an OOM kill long ago', () => {
    const tests = [{
      interval: '1m',
      input_series: [
        // OOM-killed at minute 10, restarted; then it runs: the reason stays 1, the restarts stay flat.
        { series: `kube_pod_container_status_last_terminated_reason{${ksm},reason="OOMKilled"}`, values: '_x10 1x40' },
        { series: `kube_pod_container_status_restarts_total{${ksm}}`, values: '0x10 1x40' },
        // Another container OOM-killed before the window, never since.
        { series: 'kube_pod_container_status_last_terminated_reason{job="kube-state-metrics",namespace="shop",pod="old-0",container="old",uid="w",reason="OOMKilled"}', values: '1x50' },
        { series: 'kube_pod_container_status_restarts_total{job="kube-state-metrics",namespace="shop",pod="old-0",container="old",uid="w"}', values: '4x50' },
      ],
      alert_rule_test: [
        { eval_time: '12m', alertname: 'ContainerOOMKilled', exp_alerts: [{ exp_labels: fired[1][2], exp_annotations: {
          summary: 'shop/cart-0 (cart) was killed for running out of memory',
          description: 'It restarted in the last 10 minutes, and its last exit was an OOM kill: its memory limit, or the node\'s memory, ran out.',
          runbook: 'First: its memory working set against its limit on the Containers dashboard; then raise the limit or find what grows.',
        } }] },
        // Ten minutes after the restart it is quiet again, and the old kill never fires.
        { eval_time: '25m', alertname: 'ContainerOOMKilled', exp_alerts: [] },
      ],
    }];
    const result = promtoolTestRules(stringify({ rule_files: [RULES_FILE], evaluation_interval: '1m', tests }), { [RULES_FILE]: rules });
    expect(result.output).toContain('SUCCESS');
    expect(result.ok).toBe(true);
  });
});
