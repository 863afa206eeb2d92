/**
 * The Kubernetes Prometheus config, checked with the real Prometheus 2.42 binary from Debian. Its build has
 * no kubernetes_sd, so the discovery block is swapped for file_sd targets that carry the
 * `__meta_kubernetes_*` labels of real pods; the generated relabel rules stay exactly as synthesized.
 */
import { parse, stringify } from 'yaml';
import { CONTRACT_LABELS, KUBERNETES_PODS_JOB, parseStackConfig, renderAlertRules, renderCompose, renderKubernetesPrometheusConfig, RULES_FILE, StackInput, toYaml } from '../lib';
import { WATCHDOG_ALERT, WATCHDOG_LABEL } from '../lib/render/alert-rules';
import { helmTemplate } from './helm-support';
import { find, synthObjects } from './helpers/stack';
import { podTarget } from './support/pod-targets';
import { METRIC_SOURCES, metricNames } from './support/metric-sources';
import { promtoolCheckConfig, promtoolCheckRules, promtoolTestRules, RunningPrometheus, serveMetrics, startPrometheus, TargetGroup, withFileSd } from './support/prometheus';

/** The `__meta_kubernetes_*` labels the pod role gives one container port of a pod. */
/** Rule files referenced from /etc/prometheus/rules in the cluster live next to prometheus.yml here. */
function localRules(config: any): any {
  return { ...config, rule_files: config.rule_files ? [`rules/*.yaml`] : undefined };
}

describe('the synthesized prometheus.yml', () => {
  const objects = synthObjects();
  const configYaml = find(objects, 'ConfigMap', 'prometheus-config', 'monitoring').data['prometheus.yml'];
  const rulesYaml = find(objects, 'ConfigMap', 'prometheus-rules', 'monitoring').data[RULES_FILE];

  test('is the renderer\'s output', () => {
    const c = parseStackConfig({});
    expect(parse(configYaml)).toEqual(renderKubernetesPrometheusConfig(c.prometheus, { alertmanagers: ['alertmanager.monitoring.svc.cluster.local:9093'], kubelet: c.kubelet, kubeStateMetricsNamespace: 'monitoring', nodeExporterNamespace: 'monitoring-agent' }));
    expect(parse(configYaml).scrape_configs.map((j: any) => j.job_name)).toEqual([KUBERNETES_PODS_JOB, 'cadvisor', 'kubelet', 'kube-state-metrics', 'node-exporter']);
  });

  test('is rejected by promtool as is, because Debian\'s build has no kubernetes_sd (the reason for the swap)', () => {
    const result = promtoolCheckConfig(configYaml, { [`rules/${RULES_FILE}`]: rulesYaml });
    expect(result.ok).toBe(false);
    expect(result.output).toContain('kubernetes_sd_configs');
  });

  test('passes promtool check config once discovery is swapped for file_sd', () => {
    const { config, files } = withFileSd(localRules(parse(configYaml)), {});
    const result = promtoolCheckConfig(stringify(config), { ...files, [`rules/${RULES_FILE}`]: rulesYaml });
    expect(result.output).toContain('SUCCESS');
    expect(result.ok).toBe(true);
  });

  test('its rules pass promtool check rules', () => {
    const result = promtoolCheckRules(rulesYaml);
    expect(result.output).toContain('SUCCESS');
    expect(result.ok).toBe(true);
  });

  test('the remote_write section of a customised stack passes promtool', () => {
    const c = parseStackConfig({ prometheus: { remoteWrite: [{ name: 'mimir', url: 'https://mimir.example.com/api/v1/push' }] } });
    const { config, files } = withFileSd(localRules(renderKubernetesPrometheusConfig(c.prometheus)), {});
    const result = promtoolCheckConfig(stringify(config), { ...files, [`rules/${RULES_FILE}`]: rulesYaml });
    expect(result.ok).toBe(true);
  });
});

describe('the alert rules', () => {
  test('fire as intended (promtool test rules)', () => {
    const tests = {
      rule_files: [RULES_FILE],
      evaluation_interval: '1m',
      tests: [
        {
          interval: '1m',
          input_series: [
            { series: 'up{job="kubernetes-pods",namespace="demo",pod="demo-app-1",container="app",app="demo-app",node="n1",instance="10.0.0.1:8080"}', values: '0x10' },
            { series: 'up{job="kubernetes-pods",namespace="monitoring",pod="loki-1",container="loki",app="loki",node="n1",instance="10.0.0.2:3100"}', values: '1x10' },
            { series: 'http_server_request_duration_seconds_count{namespace="demo",app="demo-app",route="/",method="GET",status_code="500"}', values: '0+30x20' },
            { series: 'http_server_request_duration_seconds_count{namespace="demo",app="demo-app",route="/",method="GET",status_code="200"}', values: '0+70x20' },
          ],
          alert_rule_test: [
            {
              eval_time: '6m',
              alertname: 'TargetDown',
              exp_alerts: [{
                exp_labels: { severity: 'warning', job: 'kubernetes-pods', namespace: 'demo', pod: 'demo-app-1', container: 'app', app: 'demo-app', node: 'n1', instance: '10.0.0.1:8080' },
                exp_annotations: {
                  summary: 'demo-app (demo/demo-app-1) cannot be scraped',
                  description: 'Prometheus has failed to scrape 10.0.0.1:8080 for 5 minutes. Check the pod and its prometheus.io/* annotations.',
                  runbook: 'First: is the pod running and ready (kubectl -n demo get pod demo-app-1; on compose, docker compose ps)? Then the target\'s error on Prometheus\'s /targets page.',
                },
              }],
            },
            { eval_time: '4m', alertname: 'TargetDown', exp_alerts: [] },
            {
              eval_time: '16m',
              alertname: 'HttpServerHighErrorRatio',
              exp_alerts: [{
                exp_labels: { severity: 'warning', namespace: 'demo', app: 'demo-app' },
                exp_annotations: {
                  summary: 'demo-app answers more than 10% of requests with 5xx',
                  description: '30% of the requests to demo/demo-app failed over the last 5 minutes.',
                  runbook: 'First: the app\'s error logs in Grafana (Explore, Loki: {namespace="demo", app="demo-app"} |= "error"), then which route fails (app:http_server_requests:rate5m by route and status_code).',
                },
              }],
            },
          ],
          promql_expr_test: [
            { expr: 'app:http_server_requests:rate5m{status_code="500"}', eval_time: '10m', exp_samples: [{ labels: 'app:http_server_requests:rate5m{namespace="demo",app="demo-app",route="/",status_code="500"}', value: 0.5 }] },
          ],
        },
      ],
    };
    const result = promtoolTestRules(stringify(tests), { [RULES_FILE]: toYaml(renderAlertRules()) });
    expect(result.output).toContain('SUCCESS');
    expect(result.ok).toBe(true);
  });
});

describe('the stack watching itself', () => {
  const alerts = renderAlertRules({ kubeStateMetrics: true, kubelet: true, nodeExporter: true }).groups.flatMap((g) => g.rules).filter((r) => r.alert);

  test('every metric a rule queries has its source named (test/support/metric-sources.ts)', () => {
    // Alerts and recording rules alike; a recorded series is its own source.
    const rules = renderAlertRules({ kubeStateMetrics: true, kubelet: true, nodeExporter: true }).groups.flatMap((g) => g.rules);
    const recorded = rules.map((r) => r.record).filter(Boolean);
    for (const a of rules) {
      const names = metricNames(a.expr).filter((n) => !recorded.includes(n));
      for (const n of names) expect({ rule: a.alert ?? a.record, metric: n, source: METRIC_SOURCES[n] }).toEqual({ rule: a.alert ?? a.record, metric: n, source: expect.any(String) });
    }
  });

  test('every alert has a severity Alertmanager routes, a summary, a description and a runbook line (the Watchdog: severity none, routed to nobody)', () => {
    expect(alerts.length).toBeGreaterThanOrEqual(10);
    for (const a of alerts) {
      expect({ alert: a.alert, severity: a.labels?.severity }).toEqual({ alert: a.alert, severity: a.alert === WATCHDOG_ALERT ? 'none' : expect.stringMatching(/^(warning|critical)$/) });
      expect({ alert: a.alert, keys: Object.keys(a.annotations ?? {}).sort() }).toEqual({ alert: a.alert, keys: ['description', 'runbook', 'summary'] });
      expect(a.annotations!.runbook).toMatch(/^First: /);
    }
  });

  test('without Alertmanager, no alert watches Prometheus\'s connection to it; without kube-state-metrics, no rule reads it: cdk8s, Helm and compose alike', () => {
    const names = (rules: any) => rules.groups.flatMap((g: any) => g.rules.map((r: any) => r.alert ?? r.record));
    const rulesOf = (objects: any[]) => parse(objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === 'prometheus-rules').data[RULES_FILE]);
    const composeRules = (input: StackInput) => parse(renderCompose(parseStackConfig(input)).get(`prometheus/rules/${RULES_FILE}`)!);
    const ksmRules = ['KubeStateMetricsDown', 'StackComponentNotReady', 'namespace_pod:app:info', 'KubePodCrashLooping', 'ContainerOOMKilled'];
    for (const alertmanager of [true, false]) {
      for (const kubeStateMetrics of [true, false]) {
        const input = { alertmanager: { enabled: alertmanager }, kubeStateMetrics: { enabled: kubeStateMetrics }, kubelet: { enabled: false } };
        const cdk8s = rulesOf(synthObjects(input));
        const has = names(cdk8s);
        expect({ input, watched: has.includes('PrometheusNotConnectedToAlertmanager') }).toEqual({ input, watched: alertmanager });
        expect({ input, watchdog: has.includes(WATCHDOG_ALERT) }).toEqual({ input, watchdog: alertmanager });
        expect({ input, ksm: ksmRules.filter((n) => has.includes(n)) }).toEqual({ input, ksm: kubeStateMetrics ? ksmRules : [] });
        expect(rulesOf(helmTemplate({ set: [`alertmanager.enabled=${alertmanager}`, `kubeStateMetrics.enabled=${kubeStateMetrics}`, 'kubelet.enabled=false'] }))).toEqual(cdk8s);
        // compose has no kube-state-metrics: its rules are Kubernetes' without it (and with cAdvisor off, without
        // the container series either).
        if (!kubeStateMetrics) expect(composeRules({ ...input, compose: { cadvisor: { enabled: false } } })).toEqual(cdk8s);
      }
    }
    // The kubelet's container alerts come with the kubelet jobs; memory against limits needs kube-state-metrics too.
    const alertsWith = (kubelet: boolean, kubeStateMetrics: boolean) => names(rulesOf(synthObjects({ kubelet: { enabled: kubelet }, kubeStateMetrics: { enabled: kubeStateMetrics } })));
    expect(alertsWith(true, true)).toEqual(expect.arrayContaining(['ContainerCPUThrottlingHigh', 'ContainerMemoryNearLimit']));
    expect(alertsWith(true, false)).toContain('ContainerCPUThrottlingHigh');
    expect(alertsWith(true, false)).not.toContain('ContainerMemoryNearLimit');
    expect(alertsWith(false, true)).not.toContain('ContainerCPUThrottlingHigh');
    expect(rulesOf(helmTemplate({ set: ['kubeStateMetrics.enabled=false'] }))).toEqual(rulesOf(synthObjects({ kubeStateMetrics: { enabled: false } })));
  });

  test('each of the stack\'s own alerts fires on its failure and stays quiet without it (promtool test rules)', () => {
    const prom = 'job="prometheus",namespace="monitoring",app="prometheus",pod="prometheus-0"';
    const am = 'job="alertmanager",namespace="monitoring",app="alertmanager",pod="alertmanager-0"';
    const grafana = 'job="kubernetes-pods",namespace="monitoring",app="grafana",pod="grafana-0",container="grafana",node="n1"';
    const loki = 'job="loki",namespace="monitoring",app="loki",pod="loki-0"';
    const promtail = 'job="promtail",namespace="monitoring-agent",app="promtail",pod="promtail-x"';
    const alloy = 'job="alloy",namespace="monitoring-agent",app="alloy",pod="alloy-x"';
    const at = (labels: string) => Object.fromEntries(labels.split(',').map((kv) => kv.split('=')).map(([k, v]) => [k, JSON.parse(v)]));
    const who = (labels: string) => { const { job: _job, ...rest } = at(labels); return rest; };
    const series = (bad: boolean) => [
      { series: `prometheus_config_last_reload_successful{${prom}}`, values: bad ? '1 0x30' : '1x30' },
      { series: `prometheus_notifications_errors_total{${prom},alertmanager="http://alertmanager:9093/api/v2/alerts"}`, values: bad ? '0+5x30' : '0x30' },
      { series: `prometheus_notifications_sent_total{${prom},alertmanager="http://alertmanager:9093/api/v2/alerts"}`, values: '0+100x30' },
      { series: `prometheus_tsdb_compactions_failed_total{${prom}}`, values: bad ? '0 1x30' : '0x30' },
      { series: `prometheus_remote_storage_samples_failed_total{${prom},remote_name="mimir",url="http://mimir/api/v1/push"}`, values: bad ? '0+5x30' : '0x30' },
      { series: `prometheus_remote_storage_samples_total{${prom},remote_name="mimir",url="http://mimir/api/v1/push"}`, values: '0+95x30' },
      { series: `prometheus_remote_storage_highest_timestamp_in_seconds{${prom}}`, values: '0+60x30' },
      { series: `prometheus_remote_storage_queue_highest_sent_timestamp_seconds{${prom},remote_name="mimir",url="http://mimir/api/v1/push"}`, values: bad ? '0x30' : '0+60x30' },
      { series: `prometheus_notifications_alertmanagers_discovered{${prom}}`, values: bad ? '1 0x30' : '1x30' },
      { series: `prometheus_tsdb_storage_blocks_bytes{${prom}}`, values: bad ? '950x90' : '500x90' },
      { series: `prometheus_tsdb_retention_limit_bytes{${prom}}`, values: '1000x90' },
      { series: `alertmanager_notifications_failed_total{${am},integration="webhook",reason="other"}`, values: bad ? '0+1x30' : '0x30' },
      { series: `alertmanager_config_last_reload_successful{${am}}`, values: bad ? '1 0x30' : '1x30' },
      { series: `up{${grafana},instance="10.0.0.3:3000"}`, values: bad ? '0x30' : '1x30' },
      { series: `loki_request_duration_seconds_count{${loki},method="POST",route="loki_api_v1_push",status_code="500",ws="false"}`, values: bad ? '0+10x30' : '0x30' },
      { series: `loki_request_duration_seconds_count{${loki},method="POST",route="loki_api_v1_push",status_code="204",ws="false"}`, values: '0+90x30' },
      ...[[promtail, 'promtail'], [alloy, 'loki_write']].flatMap(([labels, prefix]) => [
        { series: `${prefix}_request_duration_seconds_count{${labels},status_code="500",host="loki:3100"}`, values: bad ? '0+10x30' : '0x30' },
        { series: `${prefix}_request_duration_seconds_count{${labels},status_code="204",host="loki:3100"}`, values: '0+90x30' },
        { series: `${prefix}_dropped_entries_total{${labels},host="loki:3100",tenant="",reason="rate_limited"}`, values: bad ? '0+1x30' : '0x30' },
      ]),
    ];
    const fired: Array<[string, string, Record<string, string>, string]> = [
      ['StackComponentDown', '20m', { ...at(grafana), instance: '10.0.0.3:3000', severity: 'critical' }, '0'],
      ['LokiRequestErrors', '20m', { ...who(loki), route: 'loki_api_v1_push', severity: 'warning' }, '10%'],
      ['PromtailNotShipping', '20m', { ...who(promtail), severity: 'warning' }, '10%'],
      ['PromtailDroppingLines', '20m', { ...who(promtail), reason: 'rate_limited', severity: 'warning' }, '10'],
      ['AlloyNotShipping', '20m', { ...who(alloy), severity: 'warning' }, '10%'],
      ['AlloyDroppingLines', '20m', { ...who(alloy), reason: 'rate_limited', severity: 'warning' }, '10'],
      ['PrometheusConfigReloadFailed', '20m', { ...at(prom), severity: 'warning' }, '0'],
      ['PrometheusNotificationsFailing', '20m', { ...who(prom), severity: 'critical' }, '5%'],
      ['PrometheusRemoteWriteFailing', '20m', { ...who(prom), remote_name: 'mimir', severity: 'critical' }, '5%'],
      ['PrometheusRemoteWriteBehind', '30m', { ...at(prom), remote_name: 'mimir', url: 'http://mimir/api/v1/push', severity: 'warning' }, '30m 0s'],
      ['PrometheusNotConnectedToAlertmanager', '20m', { ...at(prom), severity: 'warning' }, '0'],
      ['PrometheusTSDBCompactionsFailing', '20m', { ...at(prom), severity: 'warning' }, '1'],
      ['PrometheusStorageNearRetentionSize', '80m', { ...at(prom), severity: 'warning' }, '95%'],
      ['AlertmanagerNotificationsFailing', '20m', { ...who(am), integration: 'webhook', severity: 'critical' }, '0.0166'],
      ['AlertmanagerConfigReloadFailed', '20m', { ...at(am), severity: 'warning' }, '0'],
    ];
    // The annotations as a person reads them: the rule's templates filled with the alert's labels and the value
    // shown as the template's function shows it.
    const rule = (name: string) => alerts.find((a) => a.alert === name)!;
    const expectedAnnotations = (name: string, labels: Record<string, string>, value: string) => Object.fromEntries(
      Object.entries(rule(name).annotations!).map(([k, v]) => {
        const text = v.replace(/\{\{ \$labels\.(\w+) \}\}/g, (_m, l: string) => labels[l] ?? '').replace(/\{\{ \$value[^}]*\}\}/g, value);
        expect({ name, k, text }).toEqual({ name, k, text: expect.not.stringContaining('{{') });
        return [k, text];
      }),
    );
    const tests = {
      rule_files: [RULES_FILE],
      evaluation_interval: '1m',
      tests: [true, false].map((bad) => ({
        interval: '1m',
        input_series: series(bad),
        alert_rule_test: fired.map(([alertname, eval_time, labels, value]) => ({
          eval_time,
          alertname,
          exp_alerts: bad ? [{ exp_labels: labels, exp_annotations: expectedAnnotations(alertname, labels, value) }] : [],
        })).concat(
          // A stack component down is StackComponentDown (critical), not also TargetDown.
          { eval_time: '20m', alertname: 'TargetDown', exp_alerts: [] },
        ),
      })),
    };
    const result = promtoolTestRules(stringify(tests), { [RULES_FILE]: toYaml(renderAlertRules()) });
    expect(result.output).toContain('SUCCESS');
    expect(result.ok).toBe(true);
    expect(fired.map(([a]) => a).sort()).toEqual(renderAlertRules().groups.find((g) => g.name === 'stack-self')!.rules.map((r) => r.alert).sort());
  });
});

describe('end to end: the real Prometheus scrapes annotated pods with exactly the contract\'s labels', () => {
  let prometheus: RunningPrometheus;
  const servers: Array<{ port: number; close: () => Promise<void> }> = [];
  const metrics = '# HELP my_app_requests_total Requests served.\n# TYPE my_app_requests_total counter\nmy_app_requests_total 42\n';
  const annotations = (port: number) => ({ 'prometheus.io/scrape': 'true', 'prometheus.io/port': String(port), 'prometheus.io/path': '/metrics' });
  const appLabels = { 'app.kubernetes.io/name': 'demo-app', 'app.kubernetes.io/part-of': 'observability-stack', 'pod-template-hash': '7c9d8f6b5' };

  beforeAll(async () => {
    const annotated = await serveMetrics(metrics);
    const plain = await serveMetrics(metrics.replace('42', '7'));
    servers.push(annotated, plain);
    const pod = { ip: '127.0.0.1', namespace: 'demo', node: 'kind-control-plane', container: 'app' };
    const targets: TargetGroup[] = [
      podTarget({ ...pod, port: annotated.port, pod: 'demo-app-7c9d8f6b5-x2x9q', controller: 'demo-app-7c9d8f6b5', labels: appLabels, annotations: annotations(annotated.port) }),
      // The same pod's second declared port: not the annotated one, so not a second target.
      podTarget({ ...pod, port: plain.port, pod: 'demo-app-7c9d8f6b5-x2x9q', controller: 'demo-app-7c9d8f6b5', labels: appLabels, annotations: annotations(annotated.port) }),
      // A pod without the annotation.
      podTarget({ ...pod, port: plain.port, pod: 'other-5d4f7b9c8-abcde', labels: { 'app.kubernetes.io/name': 'other' } }),
      // An annotated pod that has not started, and an annotated pod's init container.
      podTarget({ ...pod, port: annotated.port, pod: 'demo-app-7c9d8f6b5-pend1', labels: appLabels, annotations: annotations(annotated.port), phase: 'Pending' }),
      podTarget({ ...pod, port: annotated.port, pod: 'demo-app-7c9d8f6b5-init1', container: 'init', init: true, labels: appLabels, annotations: annotations(annotated.port) }),
    ];
    const c = parseStackConfig({ prometheus: { scrapeIntervalSeconds: 1, scrapeTimeoutSeconds: 1, evaluationIntervalSeconds: 1 } });
    const { config, files } = withFileSd(localRules(renderKubernetesPrometheusConfig(c.prometheus)), { [KUBERNETES_PODS_JOB]: targets });
    prometheus = await startPrometheus({ config: stringify(config), files: { ...files, [`rules/${RULES_FILE}`]: toYaml(renderAlertRules()) } });
  });

  afterAll(async () => {
    await prometheus?.stop();
    for (const s of servers) await s.close();
  });

  test('exactly one target survives relabelling, with the contract\'s labels', async () => {
    const { activeTargets } = await prometheus.waitFor(async () => {
      const t = await prometheus.targets();
      return t.activeTargets.length + t.droppedTargets.length === 5 ? t : undefined;
    }, 20000, 'all five discovered targets');
    expect(activeTargets.map((t) => t.labels)).toEqual([{
      app: 'demo-app',
      container: 'app',
      instance: `127.0.0.1:${servers[0].port}`,
      job: KUBERNETES_PODS_JOB,
      namespace: 'demo',
      node: 'kind-control-plane',
      pod: 'demo-app-7c9d8f6b5-x2x9q',
    }]);
  });

  test('scrapes it (up == 1) and its series carry exactly the contract\'s labels', async () => {
    const up = await prometheus.waitFor(async () => {
      const r = await prometheus.query('up');
      return r.length === 1 && r[0].value[1] === '1' ? r : undefined;
    }, 20000, 'up == 1 for the annotated pod');
    const { __name__, instance, job, ...contract } = up[0].metric;
    expect([__name__, job, instance]).toEqual(['up', KUBERNETES_PODS_JOB, `127.0.0.1:${servers[0].port}`]);
    expect(Object.keys(contract).sort()).toEqual([...CONTRACT_LABELS].sort());
    const served = await prometheus.query('my_app_requests_total');
    expect(served.map((s) => [s.metric.pod, s.value[1]])).toEqual([['demo-app-7c9d8f6b5-x2x9q', '42']]);
  });

  test('never scrapes the pod without the annotation', async () => {
    expect(await prometheus.query('up{pod="other-5d4f7b9c8-abcde"}')).toEqual([]);
    expect(await prometheus.query('my_app_requests_total == 7')).toEqual([]);
  });

  test('the Watchdog fires at once and stays firing (promtool test rules)', () => {
    const tests = { rule_files: [RULES_FILE], evaluation_interval: '1m', tests: [{ interval: '1m', input_series: [], alert_rule_test: ['0m', '1m', '3h'].map((eval_time) => ({
      eval_time, alertname: WATCHDOG_ALERT, exp_alerts: [{ exp_labels: { severity: 'none', ...WATCHDOG_LABEL }, exp_annotations: renderAlertRules().groups.flatMap((g) => g.rules).find((r) => r.alert === WATCHDOG_ALERT)!.annotations }],
    })) }] };
    const result = promtoolTestRules(stringify(tests), { [RULES_FILE]: toYaml(renderAlertRules()) });
    expect(result.output).toContain('SUCCESS');
    expect(result.ok).toBe(true);
  });

  test('loads the stack\'s rule file', async () => {
    const res = await fetch(`${prometheus.url}/api/v1/rules`);
    const body = (await res.json()) as any;
    expect(body.data.groups.map((g: any) => g.name).sort()).toEqual(renderAlertRules().groups.map((g) => g.name).sort());
  });
});
