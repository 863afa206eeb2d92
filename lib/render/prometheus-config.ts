/**
 * prometheus.yml for the stack: the frame every rendering shares and the Kubernetes pod discovery. Pure: no
 * rendering imported; the compose rendering adds its static targets (lib/compose/prometheus.ts).
 */
import { PrometheusSettings } from '../config';
import { kubernetesContractRules, RelabelRule } from './relabel';
import { PROMETHEUS_RULES_DIR } from '../components/prometheus';

/** Name of the job that discovers annotated pods. */
export const KUBERNETES_PODS_JOB = 'kubernetes-pods';

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
 * rule files (when alert rules are on) and remote_write.
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
    ...(p.remoteWrite.length > 0 ? { remote_write: p.remoteWrite.map((r) => ({ name: r.name, url: r.url })) } : {}),
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
 * everything else).
 */
export function renderKubernetesPrometheusConfig(p: PrometheusSettings, alertmanagers: readonly string[] = []): PrometheusConfig {
  return prometheusConfig(p, [
    {
      job_name: KUBERNETES_PODS_JOB,
      kubernetes_sd_configs: [{ role: 'pod' }],
      relabel_configs: podAnnotationRelabelRules(),
    },
  ], alertmanagers);
}
