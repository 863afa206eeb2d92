/**
 * The label contract, proved from the generated configs with the REAL Prometheus (Debian's 2.42): for the
 * same pod, Promtail's relabelling (log streams) and Prometheus's relabelling (series) give the same label
 * names and values.
 *
 * Promtail's relabel_configs are Prometheus relabel rules (Promtail runs Prometheus's relabel package), so
 * one Prometheus runs both rule sets as scrape jobs:
 * - the synthesized prometheus.yml's pod job, unchanged;
 * - the synthesized promtail.yaml's pod job, minus what only Promtail knows (pipeline_stages; its job is
 *   renamed so the two can coexist). Its `__host__` and `__path__` are `__`-prefixed, so Prometheus drops
 *   them after relabelling just as Promtail does before sending;
 * - a third job with Promtail's rules plus two that copy `__path__` and `__host__` to visible labels.
 * All are fed by file_sd targets carrying the same `__meta_kubernetes_*` labels of one annotated pod whose
 * IP is 127.0.0.1 and whose /metrics is real, and we compare the labels of the discovered targets.
 */
import { parse, stringify } from 'yaml';
import { CONTRACT_LABELS, KUBERNETES_PODS_JOB, parseStackConfig, PROMTAIL_PODS_JOB, promtailPipelineStages } from '../lib';
import { find, synthObjects } from './helpers/stack';
import { RunningPrometheus, serveMetrics, startPrometheus, TargetGroup, withFileSd } from './support/prometheus';

/** The job name Promtail's rules run under here (Promtail's own job has the same name as Prometheus's). */
const PROMTAIL_RULES_JOB = `promtail-${PROMTAIL_PODS_JOB}`;
/** Promtail's rules plus two that make its `__path__` and `__host__` visible. */
const PROMTAIL_PATHS_JOB = `promtail-paths`;

/** The `__meta_kubernetes_*` labels Kubernetes SD (role pod) gives one container port of a pod. */
function podTarget(port: number, extra: { labels: Record<string, string>; annotations: Record<string, string> }): TargetGroup {
  const labels: Record<string, string> = {
    __meta_kubernetes_namespace: 'demo',
    __meta_kubernetes_pod_name: 'demo-app-7c9d8f6b5-x2x9q',
    __meta_kubernetes_pod_ip: '127.0.0.1',
    __meta_kubernetes_pod_uid: '0b6c1a4e-8f0e-4a55-9d0f-2f1d5f0c9e11',
    __meta_kubernetes_pod_node_name: 'kind-worker2',
    __meta_kubernetes_pod_host_ip: '172.18.0.3',
    __meta_kubernetes_pod_ready: 'true',
    __meta_kubernetes_pod_phase: 'Running',
    __meta_kubernetes_pod_container_name: 'app',
    __meta_kubernetes_pod_container_image: 'demo-app:0.1.0',
    __meta_kubernetes_pod_container_init: 'false',
    __meta_kubernetes_pod_container_port_name: 'http',
    __meta_kubernetes_pod_container_port_number: String(port),
    __meta_kubernetes_pod_container_port_protocol: 'TCP',
    __meta_kubernetes_pod_controller_kind: 'ReplicaSet',
    __meta_kubernetes_pod_controller_name: 'demo-app-7c9d8f6b5',
  };
  const sanitize = (k: string) => k.replace(/[^a-zA-Z0-9_]/g, '_');
  for (const [k, v] of Object.entries(extra.labels)) {
    labels[`__meta_kubernetes_pod_label_${sanitize(k)}`] = v;
    labels[`__meta_kubernetes_pod_labelpresent_${sanitize(k)}`] = 'true';
  }
  for (const [k, v] of Object.entries(extra.annotations)) {
    labels[`__meta_kubernetes_pod_annotation_${sanitize(k)}`] = v;
    labels[`__meta_kubernetes_pod_annotationpresent_${sanitize(k)}`] = 'true';
  }
  return { targets: [`127.0.0.1:${port}`], labels };
}

/** Promtail's pod job as a Prometheus job: the same discovery and relabel rules, without Promtail-only fields. */
function promtailJobForPrometheus(promtailConfig: any): any {
  const job = promtailConfig.scrape_configs.find((j: any) => j.job_name === PROMTAIL_PODS_JOB);
  const { pipeline_stages, ...rest } = job;
  expect(pipeline_stages).toEqual(promtailPipelineStages()); // the only Promtail-only field
  return { ...rest, job_name: PROMTAIL_RULES_JOB };
}

describe('the label contract: Promtail\'s and Prometheus\'s relabelling agree, run by the real Prometheus', () => {
  const objects = synthObjects();
  const c = parseStackConfig({});
  const prometheusConfig = parse(find(objects, 'ConfigMap', 'prometheus-config', c.namespace).data['prometheus.yml']);
  const promtailConfig = parse(find(objects, 'ConfigMap', 'promtail-config', c.logAgent.namespace).data['promtail.yaml']);
  let prometheus: RunningPrometheus;
  let server: { port: number; close: () => Promise<void> };

  beforeAll(async () => {
    server = await serveMetrics('# HELP demo_requests_total Requests.\n# TYPE demo_requests_total counter\ndemo_requests_total 3\n');
    const pod = podTarget(server.port, {
      labels: { 'app.kubernetes.io/name': 'demo-app', 'app.kubernetes.io/part-of': 'observability-stack', 'pod-template-hash': '7c9d8f6b5' },
      annotations: { 'prometheus.io/scrape': 'true', 'prometheus.io/port': String(server.port), 'prometheus.io/path': '/metrics' },
    });
    const config = {
      global: { ...prometheusConfig.global, scrape_interval: '1s', scrape_timeout: '1s' },
      scrape_configs: [
        prometheusConfig.scrape_configs.find((j: any) => j.job_name === KUBERNETES_PODS_JOB),
        promtailJobForPrometheus(promtailConfig),
        {
          ...promtailJobForPrometheus(promtailConfig),
          job_name: PROMTAIL_PATHS_JOB,
          relabel_configs: [
            ...promtailJobForPrometheus(promtailConfig).relabel_configs,
            { source_labels: ['__path__'], target_label: 'path' },
            { source_labels: ['__host__'], target_label: 'host' },
          ],
        },
      ],
    };
    const swapped = withFileSd(config, { [KUBERNETES_PODS_JOB]: [pod], [PROMTAIL_RULES_JOB]: [pod], [PROMTAIL_PATHS_JOB]: [pod] });
    prometheus = await startPrometheus({ config: stringify(swapped.config), files: swapped.files });
  });

  afterAll(async () => {
    await prometheus?.stop();
    await server?.close();
  });

  test('the same pod gets identical label names and values from both, exactly the contract\'s', async () => {
    const { activeTargets } = await prometheus.waitFor(async () => {
      const t = await prometheus.targets();
      return t.activeTargets.length === 3 ? t : undefined;
    }, 20000, 'one active target per job');
    const byJob = (job: string) => {
      const target = activeTargets.find((t) => t.labels.job === job);
      const { job: _job, instance: _instance, ...rest } = target.labels;
      return rest;
    };
    const metrics = byJob(KUBERNETES_PODS_JOB);
    const logs = byJob(PROMTAIL_RULES_JOB);
    expect(logs).toEqual(metrics);
    expect(Object.keys(logs).sort()).toEqual([...CONTRACT_LABELS].sort());
    expect(logs).toEqual({ namespace: 'demo', pod: 'demo-app-7c9d8f6b5-x2x9q', container: 'app', app: 'demo-app', node: 'kind-worker2' });
  });

  test('Promtail\'s rules point at the container\'s log files, on the pod\'s node', async () => {
    // Prometheus drops `__` labels after relabelling, so a third job runs Promtail's rules and then copies
    // __path__ and __host__ to visible labels.
    const { activeTargets } = await prometheus.targets();
    const target = activeTargets.find((t) => t.labels.job === PROMTAIL_PATHS_JOB);
    expect({ path: target.labels.path, host: target.labels.host }).toEqual({
      path: '/var/log/pods/*0b6c1a4e-8f0e-4a55-9d0f-2f1d5f0c9e11/app/*.log',
      host: 'kind-worker2',
    });
  });

  test('the Prometheus job really scrapes the pod (the shared target is a live one)', async () => {
    const up = await prometheus.waitFor(async () => {
      const r = await prometheus.query(`up{job="${KUBERNETES_PODS_JOB}"}`);
      return r.length === 1 && r[0].value[1] === '1' ? r : undefined;
    }, 20000, 'up == 1 for the annotated pod');
    const { __name__, job, instance, ...contract } = up[0].metric;
    expect([__name__, job, instance]).toEqual(['up', KUBERNETES_PODS_JOB, `127.0.0.1:${server.port}`]);
    expect(Object.keys(contract).sort()).toEqual([...CONTRACT_LABELS].sort());
  });
});
