/**
 * kube-state-metrics: every fact of how it runs, in one place (lib/k8s/kube-state-metrics.ts, the chart and the
 * scrape job read them from here): the image and what it holds, ports, probe paths, flags, and the objects it
 * lists, which are exactly what its ClusterRole grants.
 */
import { ImageFacts } from '../image-facts';
import type { ImageRef } from '../images';
import type { IngressFrom } from '../network-access';

/** Name of its objects, and the `app.kubernetes.io/name` its scrape job selects its pod by. */
export const KUBE_STATE_METRICS_NAME = 'kube-state-metrics';

/** kube-state-metrics v2.20.0 (2026-08-16; client-go v0.36, Kubernetes 1.36: its compatibility matrix). */
export const KUBE_STATE_METRICS_IMAGE: ImageRef = { repository: 'registry.k8s.io/kube-state-metrics/kube-state-metrics', tag: 'v2.20.0' };

/** The metrics of the cluster's objects (`--port`), named `http-metrics` as upstream names it; /livez here. */
export const KUBE_STATE_METRICS_PORT = 8080;
/** Who may open the metrics port (lib/network-access.ts): Prometheus. The telemetry port stays closed: only the kubelet's probes use it. */
export const KUBE_STATE_METRICS_INGRESS_FROM: IngressFrom = ['prometheus'];
/** Its own metrics and /readyz (`--telemetry-port`). */
export const KUBE_STATE_METRICS_TELEMETRY_PORT = 8081;
export const KUBE_STATE_METRICS_PORT_NAME = 'http-metrics';
export const KUBE_STATE_METRICS_TELEMETRY_PORT_NAME = 'telemetry';
export const KUBE_STATE_METRICS_LIVE_PATH = '/livez';
export const KUBE_STATE_METRICS_READY_PATH = '/readyz';

/**
 * The objects it lists and watches: what the stack's dashboards, alerts and the `app` recording rule read
 * (pods, nodes, namespaces, workloads, jobs, claims, quotas), and nothing else. Not secrets or configmaps,
 * which its default set includes: their metrics name every Secret, and listing them reads their contents.
 * `--resources` and the ClusterRole are both made from this list, so they cannot disagree.
 */
export const KUBE_STATE_METRICS_RESOURCES: ReadonlyArray<{ readonly resource: string; readonly apiGroup: string }> = [
  { resource: 'cronjobs', apiGroup: 'batch' },
  { resource: 'daemonsets', apiGroup: 'apps' },
  { resource: 'deployments', apiGroup: 'apps' },
  { resource: 'jobs', apiGroup: 'batch' },
  { resource: 'namespaces', apiGroup: '' },
  { resource: 'nodes', apiGroup: '' },
  { resource: 'persistentvolumeclaims', apiGroup: '' },
  { resource: 'pods', apiGroup: '' },
  { resource: 'replicasets', apiGroup: 'apps' },
  { resource: 'resourcequotas', apiGroup: '' },
  { resource: 'statefulsets', apiGroup: 'apps' },
];

/** Its ClusterRole's rules: list and watch on exactly KUBE_STATE_METRICS_RESOURCES, grouped by API group. */
export function kubeStateMetricsRules(): Array<{ apiGroups: string[]; resources: string[]; verbs: string[] }> {
  const groups = [...new Set(KUBE_STATE_METRICS_RESOURCES.map((r) => r.apiGroup))].sort();
  return groups.map((group) => ({
    apiGroups: [group],
    resources: KUBE_STATE_METRICS_RESOURCES.filter((r) => r.apiGroup === group).map((r) => r.resource),
    verbs: ['list', 'watch'],
  }));
}

/**
 * Its command-line arguments (after the image's entrypoint, which already sets both ports): the resources it
 * lists, and the pod labels it turns into `label_*` labels of kube_pod_labels, from which the stack's
 * recording rule takes `app` (the same labels the log agent reads `app` from).
 */
export function kubeStateMetricsArgs(metricLabelsAllowlist: string): string[] {
  return [
    `--resources=${KUBE_STATE_METRICS_RESOURCES.map((r) => r.resource).join(',')}`,
    `--metric-labels-allowlist=${metricLabelsAllowlist}`,
  ];
}

/** The pod labels the label contract's `app` comes from (lib/render/relabel.ts): the allowlist must keep them. */
export const KUBE_STATE_METRICS_APP_LABELS = ['app.kubernetes.io/name', 'app'] as const;
/** The default allowlist: those labels. */
export const KUBE_STATE_METRICS_DEFAULT_ALLOWLIST = `pods=[${KUBE_STATE_METRICS_APP_LABELS.join(',')}]`;

/** The kube-state-metrics image: one static binary on distroless static-debian13, as `nobody`. */
export const KUBE_STATE_METRICS_IMAGE_FACTS: ImageFacts = {
  image: KUBE_STATE_METRICS_IMAGE,
  sources: [
    'kubernetes/kube-state-metrics@v2.20.0 Dockerfile (FROM gcr.io/distroless/static-debian13; COPY /kube-state-metrics; USER nobody; ENTRYPOINT ["/kube-state-metrics", "--port=8080", "--telemetry-port=8081"])',
    'GoogleContainerTools/distroless base/testdata/base.yaml (/etc/passwd: nobody:x:65534:65534)',
  ],
  user: { written: 'nobody', uid: 65534, gid: 65534, source: 'Dockerfile USER nobody; distroless /etc/passwd nobody:x:65534:65534' },
  workdir: '/',
  entrypoint: ['/kube-state-metrics', '--port=8080', '--telemetry-port=8081'],
  cmd: [],
  env: {},
  directories: [{ path: '/tmp', uid: 0, gid: 0, mode: 0o1777 }],
  // Distroless: no shell, no wget. Its probes are HTTP, which the kubelet makes.
  executables: ['/kube-state-metrics'],
  programs: [{
    executable: 'kube-state-metrics',
    writes: [],
    reads: [],
    source: 'kubernetes/kube-state-metrics@v2.20.0 pkg/app/server.go (serves metrics from memory; in-cluster config from the service-account token)',
  }],
};
