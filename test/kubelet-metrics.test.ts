/**
 * The kubelet jobs (cadvisor, kubelet), run by the real Prometheus 2.42 against a stand-in kubelet on loopback
 * (test/support/kubelet.ts): HTTPS with a certificate made here, the bearer token checked, the node found
 * through file_sd targets carrying the labels `role: node` discovery gives (Debian's build has no
 * kubernetes_sd). What reaches the TSDB is what the label contract and the drops promise; TLS verification
 * works as the setting says.
 */
import { parse, stringify } from 'yaml';
import { CADVISOR_JOB, KUBELET_JOB, KUBELET_PORT, parseStackConfig, renderAlertRules, renderKubernetesPrometheusConfig, RULES_FILE, SERVICE_ACCOUNT_CA_FILE, StackInput, toYaml } from '../lib';
import { helmTemplate } from './helm-support';
import { find, synthObjects } from './helpers/stack';
import { cadvisorExposition, makeCertificates, NodeContainer, StandInKubelet, startStandInKubelet, TestCertificates } from './support/kubelet';
import { FILE_SD_TOKEN, promtoolCheckConfig, promtoolTestRules, RunningPrometheus, startPrometheus, withFileSd } from './support/prometheus';

type Json = any;
const NODE = 'kind-control-plane';
const CONTAINERS: NodeContainer[] = [
  { namespace: 'demo', pod: 'demo-app-7d9f8b6c5d-x2x4z', container: 'app', image: 'observability-stack/demo-app:0.1.0', cpuLimit: 0.5 },
  { namespace: 'monitoring', pod: 'prometheus-5f7c9d8b4-abcde', container: 'prometheus', image: 'quay.io/prometheus/prometheus:v3.14.0' },
];

/** The kubelet jobs of the Kubernetes prometheus.yml for `input`, pointed at the stand-in, scraping every second. */
function kubeletConfig(input: StackInput, port: number, caCrt?: string): { config: Json; files: Record<string, string> } {
  const c = parseStackConfig(input);
  const config: Json = renderKubernetesPrometheusConfig(c.prometheus, { kubelet: c.kubelet });
  delete config.rule_files;
  config.global = { scrape_interval: '1s', scrape_timeout: '1s', evaluation_interval: '1s' };
  config.scrape_configs = config.scrape_configs.filter((j: Json) => j.job_name === CADVISOR_JOB || j.job_name === KUBELET_JOB);
  for (const job of config.scrape_configs) job.scrape_interval = '1s'; // the model's floor is 10 s: the test need not wait
  // Node discovery's target: the node's address and the kubelet port; its labels as role: node gives them.
  const target = { targets: [`127.0.0.1:${port}`], labels: { __meta_kubernetes_node_name: NODE, __meta_kubernetes_node_address_InternalIP: '127.0.0.1' } };
  return withFileSd(config, { [CADVISOR_JOB]: [target], [KUBELET_JOB]: [target] }, { caCrt });
}

describe('the kubelet jobs in every Kubernetes rendering', () => {
  test('scrape /metrics/cadvisor and /metrics over HTTPS on each node, with the service-account token, node from the node\'s name', () => {
    const jobs = parse(find(synthObjects(), 'ConfigMap', 'prometheus-config', 'monitoring').data['prometheus.yml']).scrape_configs;
    const [cadvisor, kubelet] = [CADVISOR_JOB, KUBELET_JOB].map((name) => jobs.find((j: Json) => j.job_name === name));
    for (const job of [cadvisor, kubelet]) {
      expect(job).toMatchObject({
        scheme: 'https', scrape_interval: '30s', honor_timestamps: false,
        authorization: { credentials_file: '/var/run/secrets/kubernetes.io/serviceaccount/token' },
        tls_config: { insecure_skip_verify: true },
        kubernetes_sd_configs: [{ role: 'node' }],
        relabel_configs: [{ source_labels: ['__meta_kubernetes_node_name'], target_label: 'node' }],
      });
    }
    expect([cadvisor.metrics_path, kubelet.metrics_path]).toEqual(['/metrics/cadvisor', '/metrics']);
    expect(KUBELET_PORT).toBe(10250);
  });

  test.each([
    ['off', { kubelet: { enabled: false } }, ['kubernetes-pods', 'kube-state-metrics', 'node-exporter']],
    ['verifying with the cluster CA, every 60 s', { kubelet: { scrapeIntervalSeconds: 60, tls: { verify: true, caFile: SERVICE_ACCOUNT_CA_FILE } } }, ['kubernetes-pods', CADVISOR_JOB, KUBELET_JOB, 'kube-state-metrics', 'node-exporter']],
  ] as const)('%s: cdk8s and the chart render the same jobs', (_name, input, jobNames) => {
    const cdk8s = parse(find(synthObjects(input as StackInput), 'ConfigMap', 'prometheus-config', 'monitoring').data['prometheus.yml']).scrape_configs;
    expect(cdk8s.map((j: Json) => j.job_name)).toEqual(jobNames);
    const k = (input as Json).kubelet;
    const set = [`kubelet.enabled=${k.enabled ?? true}`, ...(k.scrapeIntervalSeconds ? [`kubelet.scrapeIntervalSeconds=${k.scrapeIntervalSeconds}`] : []), ...(k.tls ? [`kubelet.tls.verify=${k.tls.verify}`, `kubelet.tls.caFile=${k.tls.caFile}`] : [])];
    const chart = parse(find(helmTemplate({ set }), 'ConfigMap', 'prometheus-config', 'monitoring').data['prometheus.yml']).scrape_configs;
    expect(chart).toEqual(cdk8s);
    if (k.tls) for (const job of cdk8s.slice(1, 3)) expect([job.scrape_interval, job.tls_config]).toEqual(['60s', { ca_file: SERVICE_ACCOUNT_CA_FILE }]);
  });

  test('the configs pass promtool check config, with verification off and on', () => {
    const certs = makeCertificates('promtool');
    for (const input of [{}, { kubelet: { tls: { verify: true, caFile: SERVICE_ACCOUNT_CA_FILE } } }]) {
      const { config, files } = kubeletConfig(input, 1, certs.caCrt);
      const result = promtoolCheckConfig(stringify(config), files);
      expect({ input, output: result.output, ok: result.ok }).toEqual({ input, output: expect.stringContaining('SUCCESS'), ok: true });
    }
  });
});

describe('the kubelet jobs, run by the real Prometheus against a stand-in kubelet', () => {
  let certs: TestCertificates;
  let kubelet: StandInKubelet;
  let prometheus: RunningPrometheus;

  beforeAll(async () => {
    certs = makeCertificates('kubelet');
    kubelet = await startStandInKubelet({ certs, token: FILE_SD_TOKEN, node: NODE, containers: CONTAINERS });
    const { config, files } = kubeletConfig({}, kubelet.port);
    prometheus = await startPrometheus({ config: stringify(config), files });
    await prometheus.waitFor(async () => {
      const up = await prometheus.query('up == 1');
      return up.length === 2 ? up : undefined;
    }, 30_000, 'both kubelet jobs up');
    // Two scrapes at least, so rates have two points.
    await prometheus.waitFor(async () => (await prometheus.query('count_over_time(up{job="cadvisor"}[1m]) >= 3')).length === 1, 30_000, 'three cAdvisor scrapes');
  });

  afterAll(async () => {
    await prometheus?.stop();
    await kubelet?.close();
  });

  test('both targets are up, named by the node, authenticated with the service-account token', async () => {
    const up = await prometheus.query('up');
    expect(up.map((s) => [s.metric.job, s.metric.instance, s.metric.node, s.value[1]]).sort()).toEqual([
      [CADVISOR_JOB, `127.0.0.1:${kubelet.port}`, NODE, '1'],
      [KUBELET_JOB, `127.0.0.1:${kubelet.port}`, NODE, '1'],
    ]);
    expect(new Set(kubelet.authorizations)).toEqual(new Set([`Bearer ${FILE_SD_TOKEN}`]));
  });

  test('container series carry the contract\'s namespace, pod, container and node, and nothing a pod does not own', async () => {
    const cpu = await prometheus.query('container_cpu_usage_seconds_total');
    expect(cpu.map((s) => [s.metric.namespace, s.metric.pod, s.metric.container, s.metric.node]).sort()).toEqual(
      CONTAINERS.map((c) => [c.namespace, c.pod, c.container, NODE]).sort(),
    );
    expect(Object.keys(cpu[0].metric).sort()).toEqual(['__name__', 'container', 'cpu', 'id', 'image', 'instance', 'job', 'name', 'namespace', 'node', 'pod']);
    // The root cgroup and system slices (no pod) are gone, from every container metric; machine_* stay.
    expect(await prometheus.query('{job="cadvisor", pod="", __name__=~"container_.+"}')).toEqual([]);
    expect(await prometheus.query('count({job="cadvisor", id=~"/|/system.slice/.*"})')).toEqual([]);
  });

  test('the pod cgroup\'s and pause container\'s CPU and memory are dropped, the pause container\'s network is kept', async () => {
    expect(await prometheus.query('{job="cadvisor", container="", __name__=~"container_(cpu|memory)_.*"}')).toEqual([]);
    const network = await prometheus.query('container_network_receive_bytes_total');
    // An empty label is no label in Prometheus: the pause container's series have no `container`.
    expect(network.map((s) => [s.metric.namespace, s.metric.pod, s.metric.container ?? '', s.metric.image]).sort()).toEqual(
      [...new Set(CONTAINERS.map((c) => `${c.namespace}/${c.pod}`))].map((p) => [...p.split('/'), '', 'registry.k8s.io/pause:3.10']).sort(),
    );
    const rate = await prometheus.query('sum by (namespace, pod) (irate(container_network_receive_bytes_total[10s]))');
    expect(rate.every((s) => Number(s.value[1]) > 0)).toBe(true);
  });

  test('the series nobody queries are dropped; the ones the dashboards and alerts read are kept', async () => {
    const names = (await prometheus.query('count by (__name__) ({job="cadvisor", __name__=~"container_.+|machine_.+"})')).map((s) => s.metric.__name__).sort();
    expect(names).toEqual([
      'container_cpu_cfs_periods_total',
      'container_cpu_cfs_throttled_periods_total',
      'container_cpu_usage_seconds_total',
      'container_fs_reads_total',
      'container_memory_rss',
      'container_memory_usage_bytes',
      'container_memory_working_set_bytes',
      'container_network_receive_bytes_total',
      'container_network_transmit_bytes_total',
      'container_oom_events_total',
      'container_start_time_seconds',
      'machine_cpu_cores',
      'machine_memory_bytes',
    ]);
    // What the stand-in served, for comparison: the drops are the config's, not the fixture's.
    const served = new Set([...cadvisorExposition(CONTAINERS, 1).matchAll(/^# TYPE (\S+)/gm)].map((m) => m[1]));
    for (const dropped of ['container_last_seen', 'container_spec_memory_limit_bytes', 'container_tasks_state', 'container_memory_swap', 'container_memory_mapped_file', 'container_cpu_user_seconds_total', 'container_cpu_system_seconds_total', 'container_cpu_cfs_throttled_seconds_total']) {
      expect({ dropped, served: served.has(dropped), kept: names.includes(dropped) }).toEqual({ dropped, served: true, kept: false });
    }
  });

  test('CPU per container is a rate of cores; memory is the working set', async () => {
    // irate: the per-second growth between the last two scrapes (this Prometheus has run a few seconds only).
    const cpu = await prometheus.query('sum by (namespace, pod, container) (irate(container_cpu_usage_seconds_total{container!=""}[10s]))');
    const app = cpu.find((s) => s.metric.container === 'app')!;
    expect(Number(app.value[1])).toBeCloseTo(0.01, 2);
    const memory = await prometheus.query('sum by (container) (container_memory_working_set_bytes{container!=""})');
    expect(memory.map((s) => [s.metric.container, Number(s.value[1])]).sort()).toEqual([['app', 20e6], ['prometheus', 21e6]]);
  });

  test('the kubelet job keeps its volume stats with namespace and claim', async () => {
    const free = await prometheus.query('kubelet_volume_stats_available_bytes / kubelet_volume_stats_capacity_bytes');
    expect(free.map((s) => [s.metric.namespace, s.metric.persistentvolumeclaim, s.metric.node])).toEqual([['monitoring', 'prometheus-data', NODE]]);
  });
});

describe('kubelet TLS verification, against the same stand-in', () => {
  const certs = () => makeCertificates('signed-kubelet');
  let served: TestCertificates;
  let kubelet: StandInKubelet;
  const running: RunningPrometheus[] = [];

  beforeAll(async () => {
    served = certs();
    kubelet = await startStandInKubelet({ certs: served, token: FILE_SD_TOKEN, node: NODE, containers: CONTAINERS });
  });
  afterAll(async () => {
    for (const p of running) await p.stop();
    await kubelet?.close();
  });

  const verifying = { kubelet: { tls: { verify: true, caFile: SERVICE_ACCOUNT_CA_FILE } } };
  test.each([
    ['off (the default): any certificate is taken', {}, () => served.caCrt, '1'],
    ['on, with the CA that signed the kubelet\'s certificate', verifying, () => served.caCrt, '1'],
    ['on, with another CA: the scrape fails on the certificate', verifying, () => makeCertificates('other').caCrt, '0'],
  ] as const)('%s', async (_name, input, ca, expectedUp) => {
    const { config, files } = kubeletConfig(input, kubelet.port, ca());
    const prometheus = await startPrometheus({ config: stringify(config), files });
    running.push(prometheus);
    const targets = await prometheus.waitFor(async () => {
      const t = (await prometheus.targets()).activeTargets.filter((a) => a.health !== 'unknown');
      return t.length === 2 ? t : undefined;
    }, 30_000, 'both targets scraped once');
    expect(targets.map((t) => t.health)).toEqual(expectedUp === '1' ? ['up', 'up'] : ['down', 'down']);
    if (expectedUp === '0') for (const t of targets) expect(t.lastError).toMatch(/x509|certificate/);
  });
});

describe('a kubelet that cannot be scraped (promtool test rules)', () => {
  test('fires KubeletDown after 15 minutes, not TargetDown (a kubelet has no app); quiet while it answers', () => {
    const kubelet = `instance="10.0.0.9:10250",node="${NODE}"`;
    const tests = {
      rule_files: [RULES_FILE],
      evaluation_interval: '1m',
      tests: [{
        interval: '1m',
        input_series: [
          { series: `up{job="kubelet",${kubelet}}`, values: '0x20' },
          { series: `up{job="cadvisor",${kubelet}}`, values: '1x20' },
        ],
        alert_rule_test: [
          { eval_time: '14m', alertname: 'KubeletDown', exp_alerts: [] },
          {
            eval_time: '16m',
            alertname: 'KubeletDown',
            exp_alerts: [{
              exp_labels: { severity: 'warning', job: 'kubelet', instance: '10.0.0.9:10250', node: NODE },
              exp_annotations: {
                summary: `Prometheus cannot scrape the kubelet of node ${NODE} (kubelet)`,
                description: 'The kubelet job has failed to scrape 10.0.0.9:10250 for 15 minutes: the containers of that node have no CPU, memory or network series.',
                runbook: `First: the target's error on Prometheus's /targets page: 401/403 is RBAC (nodes/metrics), an x509 error is kubelet.tls, a timeout is the node (kubectl get node ${NODE}).`,
              },
            }],
          },
          { eval_time: '16m', alertname: 'TargetDown', exp_alerts: [] },
        ],
      }],
    };
    const result = promtoolTestRules(stringify(tests), { [RULES_FILE]: toYaml(renderAlertRules()) });
    expect(result.output).toContain('SUCCESS');
    expect(result.ok).toBe(true);
  });
});
