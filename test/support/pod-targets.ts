// A file_sd target group as Prometheus's `role: pod` discovery would give one container port of a pod: the
// `__meta_kubernetes_*` labels relabelling reads (prometheus/prometheus@v3.14.0 discovery/kubernetes/pod.go).
import type { TargetGroup } from './prometheus';

/** The target of one container port of a pod, with the pod's labels and annotations as meta labels. */
export function podTarget(o: {
  ip: string; port: number; namespace: string; pod: string; container: string; node: string;
  labels?: Record<string, string>; annotations?: Record<string, string>; phase?: string; init?: boolean;
  /** The controller's name (a ReplicaSet's by default: the pod's name less its suffix); null: a bare pod. */
  controller?: string | null; portName?: string;
}): TargetGroup {
  const labels: Record<string, string> = {
    __meta_kubernetes_namespace: o.namespace,
    __meta_kubernetes_pod_name: o.pod,
    __meta_kubernetes_pod_ip: o.ip,
    __meta_kubernetes_pod_uid: '0b6c1a4e-8f0e-4a55-9d0f-2f1d5f0c9e11',
    __meta_kubernetes_pod_node_name: o.node,
    __meta_kubernetes_pod_host_ip: '172.18.0.2',
    __meta_kubernetes_pod_ready: 'true',
    __meta_kubernetes_pod_phase: o.phase ?? 'Running',
    __meta_kubernetes_pod_container_name: o.container,
    __meta_kubernetes_pod_container_image: 'demo-app:0.1.0',
    __meta_kubernetes_pod_container_init: o.init ? 'true' : 'false',
    __meta_kubernetes_pod_container_port_name: o.portName ?? 'http',
    __meta_kubernetes_pod_container_port_number: String(o.port),
    __meta_kubernetes_pod_container_port_protocol: 'TCP',
  };
  if (o.controller !== null) {
    labels.__meta_kubernetes_pod_controller_kind = 'ReplicaSet';
    labels.__meta_kubernetes_pod_controller_name = o.controller ?? o.pod.replace(/-[a-z0-9]{5}$/, '');
  }
  for (const [k, v] of Object.entries(o.labels ?? {})) labels[`__meta_kubernetes_pod_label_${k.replace(/[^a-zA-Z0-9_]/g, '_')}`] = v;
  for (const [k, v] of Object.entries(o.annotations ?? {})) labels[`__meta_kubernetes_pod_annotation_${k.replace(/[^a-zA-Z0-9_]/g, '_')}`] = v;
  return { targets: [`${o.ip}:${o.port}`], labels };
}


/**
 * One pod of a synthesized Deployment as the pod job's discovery sees it (the template's labels and annotations,
 * its ReplicaSet `<name>-<hash>`, the pod `<rs>-<suffix>` on node kind-worker), serving on 127.0.0.1:`port`: the
 * target of its annotated port (the annotation moved to `port`, where a stand-in serves) and of its `http` port 8080.
 */
export function deploymentPodTargets(deployment: any, o: { namespace: string; hash: string; suffix: string; port: number }): TargetGroup[] {
  const template = deployment.spec.template;
  const rs = `${deployment.metadata.name}-${o.hash}`;
  const pod = {
    ip: '127.0.0.1', namespace: o.namespace, pod: `${rs}-${o.suffix}`, container: template.spec.containers[0].name, node: 'kind-worker',
    labels: template.metadata.labels, annotations: { ...template.metadata.annotations, 'prometheus.io/port': String(o.port) }, controller: rs,
  };
  return [podTarget({ ...pod, port: o.port, portName: 'metrics' }), podTarget({ ...pod, port: 8080, portName: 'http' })];
}
