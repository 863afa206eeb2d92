/**
 * prometheus.yml for the stack: the frame every rendering shares and the Kubernetes pod discovery. Pure: no
 * rendering imported; the compose rendering adds its static targets (lib/compose/prometheus.ts).
 */
import { KubeletSettings, PrometheusSettings } from '../config';
import { kubernetesContractRules, RelabelRule } from './relabel';
import { PROMETHEUS_RULES_DIR } from '../components/prometheus';
import { TENANT_HEADER } from './grafana-provisioning';
import { KUBE_STATE_METRICS_NAME, KUBE_STATE_METRICS_PORT_NAME } from '../components/kube-state-metrics';
import { NODE_EXPORTER_NAME, NODE_EXPORTER_PORT_NAME } from '../components/node-exporter';

/** Name of the job that discovers annotated pods. */
export const KUBERNETES_PODS_JOB = 'kubernetes-pods';
/** The kubelet jobs, named as kubernetes-mixin's selectors expect them (job="cadvisor", job="kubelet"). */
export const CADVISOR_JOB = 'cadvisor';
export const KUBELET_JOB = 'kubelet';
/** kube-state-metrics' job, named as kubernetes-mixin's selectors expect it (job="kube-state-metrics"). */
export const KUBE_STATE_METRICS_JOB = 'kube-state-metrics';
/** node-exporter's job, named as kube-prometheus names it (job="node-exporter"; node-mixin's selector is configurable). */
export const NODE_EXPORTER_JOB = 'node-exporter';
/** The kubelet's HTTPS port, which node discovery gives each node's target (status.daemonEndpoints). */
export const KUBELET_PORT = 10250;
/** The service-account token Prometheus authenticates to the kubelets with (checked by TokenReview). */
export const SERVICE_ACCOUNT_TOKEN_FILE = '/var/run/secrets/kubernetes.io/serviceaccount/token';

/**
 * Series of /metrics/cadvisor that nobody queries, dropped at ingestion (the kubelet serves them for every
 * container): the container specs (kube-state-metrics has requests and limits), last-seen times, task states, fd and thread
 * ceilings, the mapped-file and swap memory, and the CPU split into user/system and the throttled seconds
 * (the throttled periods stay: CPUThrottlingHigh uses them). kube-prometheus-stack drops much the same.
 */
export const CADVISOR_DROPPED_METRICS =
  'container_(spec_.+|last_seen|tasks_state|threads_max|file_descriptors|memory_(mapped_file|swap)|cpu_(load_average_10s|system_seconds_total|user_seconds_total|cfs_throttled_seconds_total))';

/**
 * The two kubelet jobs: each node's kubelet over HTTPS on its port 10250, discovered with `role: node`,
 * authenticated with the service-account token (RBAC nodes/metrics), `node` set from the node's name.
 * cAdvisor's series keep `namespace`, `pod` and `container` as the kubelet sets them; series of cgroups that
 * belong to no pod (system slices, the root) and the pod-level cgroup's and pause container's CPU, memory and
 * file-system series (`container=""`) are dropped, but not their network series: on containerd the pause
 * container (`container=""`) is the one that carries the pod's network.
 */
export function kubeletScrapeConfigs(k: KubeletSettings): ScrapeConfig[] {
  const common = {
    scheme: 'https',
    scrape_interval: `${k.scrapeIntervalSeconds}s`,
    // cAdvisor stamps its own timestamps, which lag the scrape; Prometheus's own avoid stale-looking gaps
    // (kube-prometheus's choice; track_timestamps_staleness needs Prometheus 2.48+).
    honor_timestamps: false,
    authorization: { credentials_file: SERVICE_ACCOUNT_TOKEN_FILE },
    tls_config: k.tls.verify ? { ca_file: k.tls.caFile } : { insecure_skip_verify: true },
    kubernetes_sd_configs: [{ role: 'node' }],
    relabel_configs: [{ source_labels: ['__meta_kubernetes_node_name'], target_label: 'node' }],
  };
  return [
    {
      job_name: CADVISOR_JOB,
      metrics_path: '/metrics/cadvisor',
      ...common,
      metric_relabel_configs: [
        { source_labels: ['__name__'], regex: CADVISOR_DROPPED_METRICS, action: 'drop' },
        { source_labels: ['id', 'pod'], regex: '.+;', action: 'drop' },
        { source_labels: ['__name__', 'container'], regex: 'container_(cpu|memory|fs|blkio|processes|sockets|threads|oom|start_time|last_seen|ulimits)[a-z_]*;', action: 'drop' },
      ],
    },
    { job_name: KUBELET_JOB, metrics_path: '/metrics', ...common },
  ];
}

export interface ScrapeConfig {
  job_name: string;
  [key: string]: unknown;
}

export interface PrometheusConfig {
  global: Record<string, unknown>;
  rule_files?: string[];
  alerting?: Record<string, unknown>;
  scrape_configs: ScrapeConfig[];
  remote_write?: Array<Record<string, unknown>>;
  storage?: { exemplars: { max_exemplars: number } };
}

/**
 * Relabelling for the pod-annotation job: keep running pods annotated `prometheus.io/scrape: "true"`,
 * take scheme, path and port from the `prometheus.io/*` annotations, and map the rest to the label
 * contract. Exactly one target per annotated port: the container port named by `prometheus.io/port`
 * (or every declared port when the annotation is absent); containers must declare their ports.
 */
export function podAnnotationRelabelRules(): RelabelRule[] {
  return [
    { source_labels: ['__meta_kubernetes_pod_annotation_prometheus_io_scrape'], regex: 'true', action: 'keep' },
    { source_labels: ['__meta_kubernetes_pod_phase'], regex: 'Pending|Succeeded|Failed|Completed', action: 'drop' },
    { source_labels: ['__meta_kubernetes_pod_container_init'], regex: 'true', action: 'drop' },
    // No prometheus.io/port annotation: scrape each declared container port.
    {
      source_labels: ['__meta_kubernetes_pod_annotation_prometheus_io_port', '__meta_kubernetes_pod_container_port_number'],
      regex: ';(\\d+)',
      target_label: '__meta_kubernetes_pod_annotation_prometheus_io_port',
    },
    // One target per annotated port, not one per declared container port.
    { source_labels: ['__meta_kubernetes_pod_container_port_number'], target_label: '__meta_kubernetes_pod_annotation_prometheus_io_port', action: 'keepequal' },
    { source_labels: ['__meta_kubernetes_pod_annotation_prometheus_io_scheme'], regex: '(https?)', target_label: '__scheme__' },
    { source_labels: ['__meta_kubernetes_pod_annotation_prometheus_io_path'], regex: '(.+)', target_label: '__metrics_path__' },
    {
      source_labels: ['__meta_kubernetes_pod_annotation_prometheus_io_port', '__meta_kubernetes_pod_ip'],
      regex: '(\\d+);(([A-Fa-f0-9]{1,4}::?){1,7}[A-Fa-f0-9]{1,4})',
      replacement: '[$2]:$1',
      target_label: '__address__',
    },
    {
      source_labels: ['__meta_kubernetes_pod_annotation_prometheus_io_port', '__meta_kubernetes_pod_ip'],
      regex: '(\\d+);((([0-9]+?)(\\.|$)){4})',
      replacement: '$2:$1',
      target_label: '__address__',
    },
    ...kubernetesContractRules(),
  ];
}

/**
 * prometheus.yml around the given scrape jobs, the same in every rendering: the global intervals, the stack's
 * rule files (when alert rules are on), remote_write, and the size of the exemplar ring (with the
 * exemplar-storage flag, prometheusFlags).
 */
export function prometheusConfig(p: PrometheusSettings, scrapeConfigs: ScrapeConfig[], alertmanagers: readonly string[] = []): PrometheusConfig {
  return {
    global: {
      scrape_interval: `${p.scrapeIntervalSeconds}s`,
      scrape_timeout: `${p.scrapeTimeoutSeconds}s`,
      evaluation_interval: `${p.evaluationIntervalSeconds}s`,
    },
    ...(p.alertRules ? { rule_files: [`${PROMETHEUS_RULES_DIR}/*.yaml`] } : {}),
    ...(alertmanagers.length > 0 ? { alerting: alertingSection(alertmanagers) } : {}),
    scrape_configs: scrapeConfigs,
    // With exemplars kept, they are shipped too (a store keeps them only if its limits allow: Mimir's
    // max_global_exemplars_per_user is 0 by default).
    ...(p.remoteWrite.length > 0 ? { remote_write: p.remoteWrite.map((r) => ({
      name: r.name,
      url: r.url,
      // A multi-tenant Mimir or Cortex refuses a push without the tenant (401), and Prometheus drops what it refuses.
      ...(r.tenant !== '' ? { headers: { [TENANT_HEADER]: r.tenant } } : {}),
      ...(p.maxExemplars > 0 ? { send_exemplars: true } : {}),
    })) } : {}),
    ...(p.maxExemplars > 0 ? { storage: { exemplars: { max_exemplars: p.maxExemplars } } } : {}),
  };
}

/**
 * Prometheus's `alerting` section: the Alertmanagers it sends alerts to, by address (API v2, the default).
 */
export function alertingSection(targets: readonly string[]): Record<string, unknown> {
  return { alertmanagers: [{ static_configs: [{ targets: [...targets] }] }] };
}

/**
 * prometheus.yml for Kubernetes: every pod annotated `prometheus.io/scrape: "true"` in any namespace,
 * the stack's own components included (Prometheus scrapes itself that way too, with the same labels as
 * everything else), and, when `kubelet` is given and on, every node's kubelet.
 */
export function renderKubernetesPrometheusConfig(p: PrometheusSettings, options: KubernetesScrapeOptions = {}): PrometheusConfig {
  return prometheusConfig(p, kubernetesScrapeConfigs(options), options.alertmanagers ?? []);
}

/** The Kubernetes scrape jobs: the pod job, and the kubelet, kube-state-metrics and node-exporter jobs the options name. */
export function kubernetesScrapeConfigs(options: KubernetesScrapeOptions = {}): ScrapeConfig[] {
  return [
    {
      job_name: KUBERNETES_PODS_JOB,
      kubernetes_sd_configs: [{ role: 'pod' }],
      relabel_configs: podAnnotationRelabelRules(),
    },
    ...(options.kubelet?.enabled ? kubeletScrapeConfigs(options.kubelet) : []),
    ...(options.kubeStateMetricsNamespace !== undefined ? [kubeStateMetricsScrapeConfig(options.kubeStateMetricsNamespace)] : []),
    ...(options.nodeExporterNamespace !== undefined ? [nodeExporterScrapeConfig(options.nodeExporterNamespace)] : []),
  ];
}

/** The file of scrape jobs a Prometheus of the user's loads when the stack runs none (prometheus.enabled: false). */
export interface ScrapeConfigsFile {
  scrape_configs: ScrapeConfig[];
}

/**
 * The stack's scrape jobs for a Prometheus of the user's (prometheus.enabled: false), in the format of
 * `scrape_config_files` (Prometheus 2.43 and later: a file whose only key is `scrape_configs`). Each job states the
 * stack's scrape interval and timeout itself, except where it has its own (the kubelet jobs' interval), since that Prometheus's
 * global ones may differ and the stack's rate windows, alerts and dashboards assume these.
 */
export function scrapeConfigsFile(p: PrometheusSettings, jobs: ScrapeConfig[]): ScrapeConfigsFile {
  return {
    scrape_configs: jobs.map(({ job_name, ...rest }) => ({
      job_name,
      scrape_interval: `${p.scrapeIntervalSeconds}s`,
      scrape_timeout: `${p.scrapeTimeoutSeconds}s`,
      ...rest,
    })),
  };
}

/** What the Kubernetes prometheus.yml holds besides the pod job. */
export interface KubernetesScrapeOptions {
  /** Alertmanagers to send alerts to, host:port. @default none */
  readonly alertmanagers?: readonly string[];
  /** The kubelet jobs, when on. @default none */
  readonly kubelet?: KubeletSettings;
  /** The namespace kube-state-metrics runs in, when it does. @default none */
  readonly kubeStateMetricsNamespace?: string;
  /** The namespace node-exporter runs in, when it does. @default none */
  readonly nodeExporterNamespace?: string;
}

/**
 * kube-state-metrics' own job: its pod in the stack's namespace, its metrics port, found by its labels.
 * `honor_labels`: its series describe other objects and carry their `namespace`, `pod` and `container`,
 * which must win; and no contract labels of its own pod are added, which would otherwise be stamped on every
 * series that lacks them (kube_node_info, kube_namespace_*), as the pod-annotation job would do.
 */
export function kubeStateMetricsScrapeConfig(namespace: string): ScrapeConfig {
  return {
    job_name: KUBE_STATE_METRICS_JOB,
    honor_labels: true,
    kubernetes_sd_configs: [{ role: 'pod', namespaces: { names: [namespace] } }],
    relabel_configs: componentPodRules(KUBE_STATE_METRICS_NAME, KUBE_STATE_METRICS_PORT_NAME),
  };
}

/**
 * The targets of a job of the stack's own component: the port named `portName` of its running pods, found by
 * their `app.kubernetes.io/name`. An evicted or finished pod stays in the API until it is collected: not a target.
 */
function componentPodRules(name: string, portName: string): RelabelRule[] {
  return [
    {
      source_labels: ['__meta_kubernetes_pod_label_app_kubernetes_io_name', '__meta_kubernetes_pod_container_port_name'],
      regex: `${name};${portName}`,
      action: 'keep',
    },
    { source_labels: ['__meta_kubernetes_pod_phase'], regex: 'Pending|Succeeded|Failed|Completed', action: 'drop' },
  ];
}

/**
 * node-exporter's own job: its pods (one per node, on the host's network, so each target is the node's
 * address and port 9100), found by their labels in the node agents' namespace. Its series describe the node:
 * they carry `node`, the node's name, and `instance` is that name too (as kube-prometheus sets it, so node
 * dashboards list nodes by name), not the exporter pod's contract labels.
 */
export function nodeExporterScrapeConfig(namespace: string): ScrapeConfig {
  return {
    job_name: NODE_EXPORTER_JOB,
    kubernetes_sd_configs: [{ role: 'pod', namespaces: { names: [namespace] } }],
    relabel_configs: [
      ...componentPodRules(NODE_EXPORTER_NAME, NODE_EXPORTER_PORT_NAME),
      { source_labels: ['__meta_kubernetes_pod_node_name'], target_label: 'node' },
      { source_labels: ['__meta_kubernetes_pod_node_name'], target_label: 'instance' },
    ],
  };
}
