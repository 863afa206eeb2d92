/**
 * Prometheus relabel rules: the shared vocabulary of Prometheus's scrape jobs and the log agents'
 * discovery. The label contract lives here, in one function, so metrics and logs of the same pod carry
 * the same label names and values by construction (and a test proves it with the real Prometheus).
 */

/** One Prometheus `relabel_config` (Promtail's `relabel_configs` use the same shape). */
export interface RelabelRule {
  source_labels?: string[];
  separator?: string;
  regex?: string;
  target_label?: string;
  replacement?: string;
  action?: 'replace' | 'keep' | 'drop' | 'keepequal' | 'dropequal' | 'labelmap' | 'labeldrop' | 'labelkeep' | 'hashmod' | 'lowercase' | 'uppercase';
  modulus?: number;
}

/** The label names every series and every log stream of a workload carries. */
export const CONTRACT_LABELS = ['namespace', 'pod', 'container', 'app', 'node'] as const;

/**
 * Kubernetes pods: `__meta_kubernetes_*` → the contract's labels.
 * `app` is the pod's `app.kubernetes.io/name` label, falling back to its `app` label, then to the name of
 * its controller (ReplicaSet hash stripped), then to the pod's name, so it is never empty.
 */
export function kubernetesContractRules(): RelabelRule[] {
  return [
    { source_labels: ['__meta_kubernetes_namespace'], target_label: 'namespace' },
    { source_labels: ['__meta_kubernetes_pod_name'], target_label: 'pod' },
    { source_labels: ['__meta_kubernetes_pod_container_name'], target_label: 'container' },
    {
      source_labels: ['__meta_kubernetes_pod_controller_name'],
      regex: '([0-9a-z-.]+?)(-[0-9a-f]{8,10})?',
      target_label: '__tmp_controller_name',
    },
    {
      source_labels: [
        '__meta_kubernetes_pod_label_app_kubernetes_io_name',
        '__meta_kubernetes_pod_label_app',
        '__tmp_controller_name',
        '__meta_kubernetes_pod_name',
      ],
      regex: '^;*([^;]+)(;.*)?$',
      target_label: 'app',
    },
    { source_labels: ['__meta_kubernetes_pod_node_name'], target_label: 'node' },
  ];
}
