/**
 * prometheus.yml for the stack. Pure: no cdk8s here, so the compose rendering and the tests use the
 * very same output.
 */
import { StackConfig } from '../config';
import { composeScrapeTargets } from '../compose/scrape-targets';
import { kubernetesContractRules, RelabelRule } from './relabel';

/** Where the rendered rule files are mounted inside the Prometheus container. */
export const PROMETHEUS_RULES_DIR = '/etc/prometheus/rules';
/** Name of the job that discovers annotated pods. */
export const KUBERNETES_PODS_JOB = 'kubernetes-pods';

export interface ScrapeConfig {
  job_name: string;
  [key: string]: unknown;
}

export interface PrometheusConfig {
  global: Record<string, unknown>;
  rule_files?: string[];
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

function globalSection(c: StackConfig): Record<string, unknown> {
  return {
    scrape_interval: `${c.prometheus.scrapeIntervalSeconds}s`,
    scrape_timeout: `${c.prometheus.scrapeTimeoutSeconds}s`,
    evaluation_interval: `${c.prometheus.evaluationIntervalSeconds}s`,
  };
}

function remoteWrite(c: StackConfig): Pick<PrometheusConfig, 'remote_write'> {
  if (c.prometheus.remoteWrite.length === 0) return {};
  return { remote_write: c.prometheus.remoteWrite.map((r) => ({ name: r.name, url: r.url })) };
}

/**
 * prometheus.yml for Kubernetes: every pod annotated `prometheus.io/scrape: "true"` in any namespace,
 * the stack's own components included (Prometheus scrapes itself that way too, with the same labels as
 * everything else).
 */
export function renderKubernetesPrometheusConfig(c: StackConfig): PrometheusConfig {
  return {
    global: globalSection(c),
    ...(c.prometheus.alertRules ? { rule_files: [`${PROMETHEUS_RULES_DIR}/*.yaml`] } : {}),
    scrape_configs: [
      {
        job_name: KUBERNETES_PODS_JOB,
        kubernetes_sd_configs: [{ role: 'pod' }],
        relabel_configs: podAnnotationRelabelRules(),
      },
    ],
    ...remoteWrite(c),
  };
}

/**
 * prometheus.yml for docker compose on a single host: one job per service of the stack, a static target at
 * the service's DNS name, and the label contract's values for its container as static labels, so they equal
 * what Promtail gives the same container's log streams (lib/compose/names.ts). Same global section, rule
 * file and remote_write as on Kubernetes.
 */
export function renderComposePrometheusConfig(c: StackConfig): PrometheusConfig {
  return {
    global: globalSection(c),
    ...(c.prometheus.alertRules ? { rule_files: [`${PROMETHEUS_RULES_DIR}/*.yaml`] } : {}),
    scrape_configs: composeScrapeTargets(c).map((t) => ({
      job_name: t.service,
      metrics_path: t.metricsPath,
      static_configs: [{ targets: [`${t.service}:${t.port}`], labels: { ...t.labels } }],
    })),
    ...remoteWrite(c),
  };
}
