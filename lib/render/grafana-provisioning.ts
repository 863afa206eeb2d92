/**
 * Grafana's provisioning files: the data sources (Prometheus and Loki, already there on first start, so
 * nobody adds one by hand) and the dashboard provider. Pure: no cdk8s here; the addresses are parameters
 * so the Kubernetes and compose renderings share them.
 *
 * Sources: grafana/grafana docs/sources/administration/provisioning/index.md,
 * docs/sources/datasources/prometheus/configure/_index.md, docs/sources/datasources/loki/configure/index.md.
 */
import { IMAGES } from '../images';
import { GRAFANA_DASHBOARDS_DIR } from '../components/grafana';

/** Fixed uid of the Prometheus data source: dashboards and links refer to it by this uid. */
export const PROMETHEUS_DATASOURCE_UID = 'prometheus';
/** Fixed uid of the Loki data source. */
export const LOKI_DATASOURCE_UID = 'loki';
export const ALERTMANAGER_DATASOURCE_UID = 'alertmanager';

/** Base URLs Grafana's server reaches the back ends at (no trailing path). */
export interface GrafanaDatasourceUrls {
  /** e.g. http://prometheus.monitoring.svc.cluster.local:9090 */
  readonly prometheus: string;
  /** e.g. http://loki.monitoring.svc.cluster.local:3100. @default none: no Loki data source (Loki disabled) */
  readonly loki?: string;
  /** e.g. http://alertmanager.monitoring.svc.cluster.local:9093. @default none: no Alertmanager data source */
  readonly alertmanager?: string;
}

export interface GrafanaDatasourceOptions {
  /** Prometheus's scrape interval, so Grafana's $__rate_interval never undercuts it. @default Grafana's own (15s) */
  readonly scrapeIntervalSeconds?: number;
  /**
   * The Prometheus version Grafana may rely on for query features (x.y.z).
   * @default the pinned image's (lib/images.ts), without its leading "v"
   */
  readonly prometheusVersion?: string;
}

/**
 * Provisioning expands `$VAR` and `${VAR}` in every value, so a literal `$` must be written `$$`.
 * Applied to every string of the rendered files (a URL or a regex may hold one).
 */
export function escapeProvisioningValue<T>(value: T): T {
  if (typeof value === 'string') return value.replace(/\$/g, '$$$$') as T;
  if (Array.isArray(value)) return value.map((v) => escapeProvisioningValue(v)) as T;
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, escapeProvisioningValue(v)])) as T;
  }
  return value;
}

/**
 * datasources.yaml: Prometheus is the default, Loki is not. Exactly one data source per organisation may
 * be the default: two make Grafana refuse to start ("Only one datasource per organization can be marked as
 * default", prometheus-community/helm-charts#2251). `prune: true` deletes data sources that leave the file.
 */
export function renderGrafanaDatasources(urls: GrafanaDatasourceUrls, options: GrafanaDatasourceOptions = {}): Record<string, unknown> {
  const prometheusVersion = options.prometheusVersion ?? IMAGES.prometheus.tag.replace(/^v/, '');
  const datasources: Array<Record<string, unknown>> = [
    {
      name: 'Prometheus',
      type: 'prometheus',
      uid: PROMETHEUS_DATASOURCE_UID,
      access: 'proxy',
      url: urls.prometheus,
      isDefault: true,
      editable: false,
      jsonData: {
        // POST keeps long PromQL out of URLs and access logs.
        httpMethod: 'POST',
        ...(options.scrapeIntervalSeconds ? { timeInterval: `${options.scrapeIntervalSeconds}s` } : {}),
        prometheusType: 'Prometheus',
        prometheusVersion,
      },
    },
  ];
  if (urls.loki !== undefined) {
    datasources.push({
      name: 'Loki',
      type: 'loki',
      uid: LOKI_DATASOURCE_UID,
      access: 'proxy',
      url: urls.loki,
      isDefault: false,
      editable: false,
      jsonData: { maxLines: 1000 },
    });
  }
  if (urls.alertmanager !== undefined) {
    // Firing alerts and silences in Grafana; with implementation "prometheus", contact points and policies are
    // read-only (they come from alertmanager.yml). Grafana's own alerts stay in Grafana.
    datasources.push({
      name: 'Alertmanager',
      type: 'alertmanager',
      uid: ALERTMANAGER_DATASOURCE_UID,
      access: 'proxy',
      url: urls.alertmanager,
      isDefault: false,
      editable: false,
      jsonData: { implementation: 'prometheus', handleGrafanaManagedAlerts: false },
    });
  }
  return escapeProvisioningValue({ apiVersion: 1, prune: true, datasources });
}

/** The Grafana folder the provisioned dashboards go in, and its fixed uid. */
export const GRAFANA_DASHBOARD_FOLDER = { title: 'Observability stack', uid: 'observability-stack' } as const;

/**
 * dashboards.yaml: one file provider reading the JSON files at the top of GRAFANA_DASHBOARDS_DIR into one
 * folder. Dashboards live in files only: edits in the UI cannot be saved over them (`allowUiUpdates: false`).
 *
 * Not `foldersFromFilesStructure`: on Kubernetes the directory is a ConfigMap volume, whose files are
 * symlinks into a hidden `..data` directory. Grafana's file reader skips directories whose name starts
 * with "." and does not descend into symlinked ones (filepath.Walk; pkg/services/provisioning/dashboards/
 * file_reader.go, validateWalkablePath), so a ConfigMap can only place dashboards at the top; a folder per
 * subdirectory would never fill.
 */
export function renderGrafanaDashboardProvider(): Record<string, unknown> {
  return escapeProvisioningValue({
    apiVersion: 1,
    providers: [{
      name: 'default',
      orgId: 1,
      type: 'file',
      folder: GRAFANA_DASHBOARD_FOLDER.title,
      folderUid: GRAFANA_DASHBOARD_FOLDER.uid,
      disableDeletion: false,
      updateIntervalSeconds: 30,
      allowUiUpdates: false,
      options: { path: GRAFANA_DASHBOARDS_DIR, foldersFromFilesStructure: false },
    }],
  });
}
