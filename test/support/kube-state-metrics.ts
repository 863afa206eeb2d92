// A stand-in for kube-state-metrics' /metrics: the series it serves for the pods and nodes given, written here
// in its exposition format (not copied), with the metric and label names of its documentation at v2.20.0
// (kubernetes/kube-state-metrics@v2.20.0 docs/metrics/workload/pod-metrics.md, docs/metrics/cluster/node-metrics.md):
// kube_pod_labels carries the pod labels of --metric-labels-allowlist as label_<name> (unsupported characters
// become "_"), kube_pod_info the node and the controller (created_by_kind, created_by_name).

/** A pod as the API server holds it, as far as the stack's rules read it. */
export interface ClusterPod {
  readonly namespace: string;
  readonly name: string;
  readonly node: string;
  readonly labels: Readonly<Record<string, string>>;
  /** The controller: a ReplicaSet's name carries the Deployment's name and a hash. */
  readonly createdBy?: { readonly kind: string; readonly name: string };
  readonly containers: ReadonlyArray<{
    readonly name: string; readonly ready: boolean; readonly restarts: number;
    /** Requests and limits: CPU in cores, memory in bytes. */
    readonly requests?: { readonly cpu: number; readonly memory: number };
    readonly limits?: { readonly cpu: number; readonly memory: number };
    /** The reason of its last termination, e.g. OOMKilled; and why it waits now, e.g. CrashLoopBackOff. */
    readonly lastTerminated?: string;
    readonly waiting?: string;
  }>;
}

type Labels = Record<string, string>;

function line(name: string, labels: Labels, value: number): string {
  const body = Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => `${k}="${v}"`).join(',');
  return `${name}{${body}} ${value}\n`;
}

/** The label names kube-state-metrics gives allowlisted Kubernetes labels: label_ + the name with unsupported characters as "_". */
export function ksmLabelName(kubernetesLabel: string): string {
  return `label_${kubernetesLabel.replace(/[^a-zA-Z0-9_]/g, '_')}`;
}

/** /metrics of kube-state-metrics run with `--metric-labels-allowlist=pods=[<allowlisted>]`. */
export function kubeStateMetricsExposition(pods: readonly ClusterPod[], allowlisted: readonly string[]): string {
  const out: Record<string, { type: string; lines: string[] }> = {};
  const add = (name: string, type: string, labels: Labels, value: number) => (out[name] ??= { type, lines: [] }).lines.push(line(name, labels, value));
  pods.forEach((p, i) => {
    const pod = { namespace: p.namespace, pod: p.name, uid: `uid-${i}` };
    const allowed = Object.fromEntries(allowlisted.filter((l) => l in p.labels).map((l) => [ksmLabelName(l), p.labels[l]]));
    add('kube_pod_labels', 'gauge', { ...pod, ...allowed }, 1);
    add('kube_pod_info', 'gauge', {
      ...pod, host_ip: '172.18.0.2', pod_ip: `10.244.0.${10 + i}`, node: p.node, priority_class: '', host_network: 'false',
      created_by_kind: p.createdBy?.kind ?? '', created_by_name: p.createdBy?.name ?? '',
    }, 1);
    for (const c of p.containers) {
      const container = { ...pod, container: c.name };
      add('kube_pod_container_status_ready', 'gauge', container, c.ready ? 1 : 0);
      add('kube_pod_container_status_restarts_total', 'counter', container, c.restarts);
      for (const [kind, set] of [['requests', c.requests], ['limits', c.limits]] as const) {
        if (!set) continue;
        add(`kube_pod_container_resource_${kind}`, 'gauge', { ...container, node: p.node, resource: 'cpu', unit: 'core' }, set.cpu);
        add(`kube_pod_container_resource_${kind}`, 'gauge', { ...container, node: p.node, resource: 'memory', unit: 'byte' }, set.memory);
      }
      // As kube-state-metrics v2.20 emits them: only the reason that is set, value 1 (internal/store/pod.go:339-360).
      if (c.lastTerminated) add('kube_pod_container_status_last_terminated_reason', 'gauge', { ...container, reason: c.lastTerminated }, 1);
      if (c.waiting) add('kube_pod_container_status_waiting_reason', 'gauge', { ...container, reason: c.waiting }, 1);
    }
  });
  for (const node of [...new Set(pods.map((p) => p.node))]) add('kube_node_info', 'gauge', { node, kernel_version: '6.8.0', os_image: 'Debian GNU/Linux 12 (bookworm)', container_runtime_version: 'containerd://2.1.4', kubelet_version: 'v1.35.0', internal_ip: '172.18.0.2' }, 1);
  return Object.entries(out).map(([name, { type, lines }]) => `# TYPE ${name} ${type}\n${lines.join('')}`).join('');
}
