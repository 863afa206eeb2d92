/**
 * Prometheus scrapes Loki, Promtail and Grafana through their pod annotations, in their own namespaces
 * (the agent's included). Checked with the real Prometheus 2.42 and the synthesized prometheus.yml: each
 * synthesized pod template becomes the file_sd targets Kubernetes SD (role pod) would produce for it (one
 * per declared container port, init containers included), and exactly one target per component survives
 * the pod job's relabelling, on the annotated port, with the contract's labels.
 */
import { parse, stringify } from 'yaml';
import { KUBERNETES_PODS_JOB, parseStackConfig } from '../lib';
import { find, synthObjects } from './helpers/stack';
import { RunningPrometheus, startPrometheus, TargetGroup, withFileSd } from './support/prometheus';

const NODE = 'kind-control-plane';
const sanitize = (k: string) => k.replace(/[^a-zA-Z0-9_]/g, '_');

/** The targets Kubernetes SD (role pod) would discover for one running pod of `workload`. */
function podTargets(workload: any, podName: string, controller: { kind: string; name: string }): TargetGroup[] {
  const template = workload.spec.template;
  const common: Record<string, string> = {
    __meta_kubernetes_namespace: workload.metadata.namespace,
    __meta_kubernetes_pod_name: podName,
    __meta_kubernetes_pod_ip: '127.0.0.1',
    __meta_kubernetes_pod_uid: `uid-${podName}`,
    __meta_kubernetes_pod_node_name: NODE,
    __meta_kubernetes_pod_host_ip: '172.18.0.2',
    __meta_kubernetes_pod_ready: 'true',
    __meta_kubernetes_pod_phase: 'Running',
    __meta_kubernetes_pod_controller_kind: controller.kind,
    __meta_kubernetes_pod_controller_name: controller.name,
  };
  for (const [k, v] of Object.entries<string>(template.metadata.labels ?? {})) {
    common[`__meta_kubernetes_pod_label_${sanitize(k)}`] = v;
    common[`__meta_kubernetes_pod_labelpresent_${sanitize(k)}`] = 'true';
  }
  for (const [k, v] of Object.entries<string>(template.metadata.annotations ?? {})) {
    common[`__meta_kubernetes_pod_annotation_${sanitize(k)}`] = v;
    common[`__meta_kubernetes_pod_annotationpresent_${sanitize(k)}`] = 'true';
  }
  const containers = [
    ...(template.spec.initContainers ?? []).map((c: any) => ({ c, init: 'true' })),
    ...template.spec.containers.map((c: any) => ({ c, init: 'false' })),
  ];
  return containers.flatMap(({ c, init }) => {
    const base = { ...common, __meta_kubernetes_pod_container_name: c.name, __meta_kubernetes_pod_container_image: c.image, __meta_kubernetes_pod_container_init: init };
    const ports: any[] = c.ports ?? [];
    if (ports.length === 0) return [{ targets: ['127.0.0.1'], labels: base }];
    return ports.map((p) => ({
      targets: [`127.0.0.1:${p.containerPort}`],
      labels: {
        ...base,
        __meta_kubernetes_pod_container_port_name: p.name,
        __meta_kubernetes_pod_container_port_number: String(p.containerPort),
        __meta_kubernetes_pod_container_port_protocol: p.protocol,
      },
    }));
  });
}

describe('Prometheus\'s pod job discovers Loki, Promtail and Grafana from their synthesized pods', () => {
  const objects = synthObjects();
  const c = parseStackConfig({});
  let prometheus: RunningPrometheus;

  beforeAll(async () => {
    const prometheusConfig = parse(find(objects, 'ConfigMap', 'prometheus-config', c.namespace).data['prometheus.yml']);
    const loki = find(objects, 'Deployment', 'loki', c.namespace);
    const grafana = find(objects, 'Deployment', 'grafana', c.namespace);
    const promtail = find(objects, 'DaemonSet', 'promtail', c.logAgent.namespace);
    const targets = [
      ...podTargets(loki, 'loki-6d5f8c7b9-q2w3e', { kind: 'ReplicaSet', name: 'loki-6d5f8c7b9' }),
      ...podTargets(grafana, 'grafana-5b7c9d8f6-a1b2c', { kind: 'ReplicaSet', name: 'grafana-5b7c9d8f6' }),
      ...podTargets(promtail, 'promtail-x7k2p', { kind: 'DaemonSet', name: 'promtail' }),
    ];
    const config = { global: prometheusConfig.global, scrape_configs: prometheusConfig.scrape_configs };
    const swapped = withFileSd(config, { [KUBERNETES_PODS_JOB]: targets });
    prometheus = await startPrometheus({ config: stringify(swapped.config), files: swapped.files });
  });

  afterAll(async () => {
    await prometheus?.stop();
  });

  test('one target each, on the annotated port, with the contract\'s labels', async () => {
    const { activeTargets, droppedTargets } = await prometheus.waitFor(async () => {
      const t = await prometheus.targets();
      // Loki: http + grpc ports; Grafana: init container + http; Promtail: http.
      return t.activeTargets.length + t.droppedTargets.length === 5 ? t : undefined;
    }, 20000, 'all five discovered targets');
    const active = activeTargets
      .map((t) => ({ app: t.labels.app, namespace: t.labels.namespace, container: t.labels.container, node: t.labels.node, url: t.scrapeUrl }))
      .sort((a, b) => a.app.localeCompare(b.app));
    expect(active).toEqual([
      { app: 'grafana', namespace: 'monitoring', container: 'grafana', node: NODE, url: 'http://127.0.0.1:3000/metrics' },
      { app: 'loki', namespace: 'monitoring', container: 'loki', node: NODE, url: 'http://127.0.0.1:3100/metrics' },
      { app: 'promtail', namespace: 'monitoring-agent', container: 'promtail', node: NODE, url: 'http://127.0.0.1:3101/metrics' },
    ]);
    expect(droppedTargets).toHaveLength(2);
  });
});
