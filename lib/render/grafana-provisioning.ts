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
import { LOKI_PASSWORD_FILE } from '../components/loki';

/** Fixed uid of the Prometheus data source: dashboards and links refer to it by this uid. */
export const PROMETHEUS_DATASOURCE_UID = 'prometheus';
/** Fixed uid of the Loki data source. */
export const LOKI_DATASOURCE_UID = 'loki';
export const ALERTMANAGER_DATASOURCE_UID = 'alertmanager';

/**
 * The labels that pick one app's series and log streams alike (the label contract): the App dashboard's
 * selector and the exemplar link's stream selector.
 */
export const APP_STREAM_LABELS = ['namespace', 'app'] as const;

/**
 * The exemplar label holding a request's id, as the demo app writes it (app/src/telemetry.ts) and the README
 * asks of the user's apps: the name is the log line's field too.
 */
export const REQUEST_ID_EXEMPLAR_LABEL = 'request_id';

/**
 * Where an exemplar's link goes: Explore on the Loki data source with the lines of that request, the ones
 * holding its id, in that app's stream, over the dashboard's time range. Grafana fills in, when the link is
 * followed (grafana/grafana packages/grafana-data/src/field/fieldOverrides.ts; each value through the UriEncode
 * format, which is encodeURI plus `!'()*`, so `&`, `#`, `+` and `=` would pass as they are):
 * `${__value.raw}` the exemplar's request id, `${__data.fields["…"]}` the same exemplar's other fields (the
 * series' labels: pkg/promlib/querydata/exemplar/framer.go makes one field per label), `${__from}` and
 * `${__to}` the time range in epoch milliseconds. Grafana's own exemplar link to a data source (`datasourceUid`)
 * cannot serve Loki: it sends the id alone as a Tempo query (packages/grafana-prometheus/src/result_transformer.ts).
 * The values land in the URL's query, a JSON string and a LogQL string unescaped: Kubernetes names and the
 * ids the demo app makes or keeps (letters, digits, `_.:-`) are safe in all three; the README asks the same of
 * the user's apps.
 */
export function exemplarLogsUrl(): string {
  const placeholders: string[] = [];
  // Letters and digits only, so that encoding leaves the token as it is and it can be swapped afterwards.
  const token = (placeholder: string): string => `EXEMPLARLINKTOKEN${placeholders.push(placeholder)}X`;
  const selector = APP_STREAM_LABELS.map((label) => `${label}="${token(`\${__data.fields["${label}"]}`)}"`).join(', ');
  const panes = {
    logs: {
      datasource: LOKI_DATASOURCE_UID,
      queries: [{ refId: 'A', datasource: { type: 'loki', uid: LOKI_DATASOURCE_UID }, expr: `{${selector}} |= "${token('${__value.raw}')}"`, queryType: 'range' }],
      range: { from: token('${__from}'), to: token('${__to}') },
    },
  };
  let url = `/explore?schemaVersion=1&orgId=1&panes=${encodeURIComponent(JSON.stringify(panes))}`;
  placeholders.forEach((placeholder, i) => {
    url = url.replace(`EXEMPLARLINKTOKEN${i + 1}X`, placeholder);
  });
  return url;
}

/** Base URLs Grafana's server reaches the back ends at (no trailing path). */
export interface GrafanaDatasourceUrls {
  /** e.g. http://prometheus.monitoring.svc.cluster.local:9090; none without the stack's Prometheus (then options.prometheusQuery names the store). */
  readonly prometheus?: string;
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
  /** Whether Prometheus keeps exemplars: with Loki, each one links to its request's log lines. @default false */
  readonly exemplars?: boolean;
  /** A long-term store the Prometheus data source reads instead (grafana.prometheusQuery). @default none */
  readonly prometheusQuery?: { readonly url: string; readonly type: string; readonly tenant: string };
  /** The tenant of the Loki data source's Loki (loki.external.tenant), sent as X-Scope-OrgID. @default "": none */
  readonly lokiTenant?: string;
  /** The basic-auth user of that Loki (loki.external.basicAuth); its password is the file LOKI_PASSWORD_FILE. @default "": none */
  readonly lokiUsername?: string;
}

/** The header a multi-tenant store (Mimir, Cortex, Loki) reads the tenant from. */
export const TENANT_HEADER = 'X-Scope-OrgID';

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
  // A long-term store instead of the stack's Prometheus: its own type, no version Grafana could rely on, and the
  // tenant as a header (Grafana keeps header values in secureJsonData).
  const store = options.prometheusQuery?.url ? options.prometheusQuery : undefined;
  if (!store && urls.prometheus === undefined) throw new Error('Grafana\'s Prometheus data source needs the stack\'s Prometheus or grafana.prometheusQuery.url');
  const datasources: Array<Record<string, unknown>> = [
    {
      name: 'Prometheus',
      type: 'prometheus',
      uid: PROMETHEUS_DATASOURCE_UID,
      access: 'proxy',
      url: store ? store.url : urls.prometheus,
      isDefault: true,
      editable: false,
      ...(store?.tenant ? { secureJsonData: { httpHeaderValue1: store.tenant } } : {}),
      jsonData: {
        // POST keeps long PromQL out of URLs and access logs.
        httpMethod: 'POST',
        ...(options.scrapeIntervalSeconds ? { timeInterval: `${options.scrapeIntervalSeconds}s` } : {}),
        ...(store ? { prometheusType: store.type } : { prometheusType: 'Prometheus', prometheusVersion }),
        ...(store?.tenant ? { httpHeaderName1: TENANT_HEADER } : {}),
        ...(options.exemplars && urls.loki !== undefined
          ? { exemplarTraceIdDestinations: [{ name: REQUEST_ID_EXEMPLAR_LABEL, url: exemplarLogsUrl(), urlDisplayLabel: 'Log lines of this request' }] }
          : {}),
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
      ...(options.lokiUsername ? { basicAuth: true, basicAuthUser: options.lokiUsername } : {}),
      ...(options.lokiTenant ? { secureJsonData: { httpHeaderValue1: options.lokiTenant } } : {}),
      jsonData: { maxLines: 1000, ...(options.lokiTenant ? { httpHeaderName1: TENANT_HEADER } : {}) },
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
  const file = escapeProvisioningValue({ apiVersion: 1, prune: true, datasources });
  // After the escaping: the one expansion the file means, the password read from its file (trimmed).
  const loki = file.datasources.find((d) => d.uid === LOKI_DATASOURCE_UID);
  if (loki && options.lokiUsername) loki.secureJsonData = { ...(loki.secureJsonData as object | undefined), basicAuthPassword: LOKI_PASSWORD_EXPANSION };
  return file;
}

/**
 * How Grafana's provisioning reads the Loki password: setting.ExpandVar's file expander, trimmed of whitespace.
 * Provisioning then runs os.ExpandEnv over the result (pkg/services/provisioning/values/values.go), so a "$" in
 * the password is expanded: the docs ask for a password without one.
 */
export const LOKI_PASSWORD_EXPANSION = `$__file{${LOKI_PASSWORD_FILE}}`;

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
