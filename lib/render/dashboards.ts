/**
 * Grafana dashboards, built with Grafana's own typed builders (@grafana/grafana-foundation-sdk, generated
 * for Grafana 11.6's dashboard schema, which Grafana 13 loads and migrates). Pure: no cdk8s here; the
 * Kubernetes, Helm and compose renderings put the same JSON files in the dashboard provider's directory.
 *
 * The app dashboard shows the requests an app answers (rate, errors, latency, by route and status) from the
 * metrics any app instrumented like app/ exposes (`http_server_request_duration_seconds` with `method`,
 * `route`, `status_code`), the app's process, and, when Loki is on, its logs: both selected by the same
 * `namespace` and `app` labels (the label contract), so metrics and logs of one workload sit side by side.
 *
 * The Stack health dashboard shows the stack itself: which targets answer, how much Prometheus holds and
 * ingests, what Loki receives, what the log agent sends and drops, what Alertmanager notifies and fails to.
 * Its metric names were read in each component's source at the pinned version (test/support/metric-sources.ts).
 *
 * The Containers dashboard shows every container's CPU, memory, throttling and network (the kubelets'
 * cAdvisor series) with restarts and OOM kills (kube-state-metrics); the Nodes dashboard, each node's (node-exporter).
 *
 * A row whose component is switched off is left out, not shown empty: each dashboard names the components it
 * depends on (DASHBOARDS), and the Helm chart carries one file per combination of them (dashboardVariants).
 */
import * as common from '@grafana/grafana-foundation-sdk/common';
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import * as logs from '@grafana/grafana-foundation-sdk/logs';
import * as loki from '@grafana/grafana-foundation-sdk/loki';
import * as prometheus from '@grafana/grafana-foundation-sdk/prometheus';
import * as stat from '@grafana/grafana-foundation-sdk/stat';
import * as timeseries from '@grafana/grafana-foundation-sdk/timeseries';
import { NODE_MEMORY_HIGH_RATIO, NODE_SELECTOR, POD_APP_RECORD, stackAppsOf } from './alert-rules';
import { everyCombination, variantName } from './variants';
import { APP_STREAM_LABELS, LOKI_DATASOURCE_UID, PROMETHEUS_DATASOURCE_UID } from './grafana-provisioning';

/** File name (in the provider's directory) of the app dashboard. */

/**
 * The levels the App dashboard lists as problems, as a LogQL regex: pino writes fatal/error/warn, Go's slog and
 * Logback ERROR/WARN, Python's logging error/warning/critical; `(?i)` takes them in any case. `warn(ing)?`, not
 * `warn|warning`: Go factors the latter into a prefix and a tail, which Loki 3.7's regex simplifier turns into a
 * substring match (any level containing "warn"); an optional group keeps Loki on the anchored regex.
 */
export const PROBLEM_LEVELS = '(?i)(fatal|critical|error|warn(ing)?)';

export const APP_DASHBOARD_FILE = 'app.json';
/** Its fixed uid, so links to it survive re-provisioning. */
export const APP_DASHBOARD_UID = 'obs-app';

/** File name and fixed uid of the Stack health dashboard. */
export const STACK_DASHBOARD_FILE = 'stack.json';
export const STACK_DASHBOARD_UID = 'obs-stack';

/** File name and fixed uid of the Containers dashboard. */
export const CONTAINERS_DASHBOARD_FILE = 'containers.json';
export const CONTAINERS_DASHBOARD_UID = 'obs-containers';

/** File name and fixed uid of the Nodes dashboard. */
export const NODES_DASHBOARD_FILE = 'nodes.json';
export const NODES_DASHBOARD_UID = 'obs-nodes';

/** The components a dashboard's rows depend on: each is on or off in a stack. */
export interface DashboardOptions {
  /** Whether the log agent ships lines to a Loki Grafana reads (the stack's, or loki.external): the logs rows need it. */
  readonly loki: boolean;
  /** Whether that Loki is the stack's own, which Prometheus scrapes: Stack health's Loki row. @default loki */
  readonly lokiMetrics?: boolean;
  /** Whether Alertmanager is part of the stack. */
  readonly alertmanager: boolean;
  /** Whether the stack runs Prometheus itself (not a Prometheus of the user's: prometheus.enabled false): Stack health's Prometheus row. @default true */
  readonly prometheus?: boolean;
  /** Whether Prometheus scrapes the kubelets (cAdvisor's container series). @default false */
  readonly kubelet?: boolean;
  /** Whether kube-state-metrics runs (requests, limits, restarts, OOM kills, `app`). @default false */
  readonly kubeStateMetrics?: boolean;
  /** Whether node-exporter runs (the Nodes dashboard). @default false */
  readonly nodeExporter?: boolean;
  /**
   * Whether node-exporter counts the host's network traffic (Kubernetes: it has the host's network; compose:
   * it does not, and those collectors are off). Not a variant of the chart, which is Kubernetes only. @default true
   */
  readonly nodeNetwork?: boolean;
  /** Whether the stack runs cAdvisor itself (compose): one of its components on Stack health. Not a chart variant. @default false */
  readonly cadvisorComponent?: boolean;
}

const PROMETHEUS: dashboard.DataSourceRef = { type: 'prometheus', uid: PROMETHEUS_DATASOURCE_UID };
const LOKI: dashboard.DataSourceRef = { type: 'loki', uid: LOKI_DATASOURCE_UID };

const DESCRIPTION = 'Generated by `npm run synth` from lib/render/dashboards.ts. Edits made here are not saved: change the source and synthesize again.';

/** The series selector every Prometheus query of the app dashboard uses. */
export const APP_SELECTOR = APP_STREAM_LABELS.map((label) => `${label}="$${label}"`).join(', ');
/** What the latency panels say about their exemplars (prometheus.maxExemplars). */
const EXEMPLARS_HINT = 'With exemplars kept (prometheus.maxExemplars), the points are single requests, by their request id: hover one and follow "Log lines of this request" to its log lines in Explore.';
/** The request histogram the app exposes (app/src/telemetry.ts). */
const DURATION = 'http_server_request_duration_seconds';

function promQuery(expr: string, legend: string, refId = 'A'): prometheus.DataqueryBuilder {
  return new prometheus.DataqueryBuilder().datasource(PROMETHEUS).expr(expr).legendFormat(legend).range().refId(refId);
}

function timeSeries(title: string, description: string, unit: string, queries: prometheus.DataqueryBuilder[]): timeseries.PanelBuilder {
  const panel = new timeseries.PanelBuilder().title(title).description(description).datasource(PROMETHEUS).unit(unit).min(0).height(8).span(12).fillOpacity(10);
  for (const q of queries) panel.withTarget(q);
  return panel;
}

/**
 * A variable whose values a PromQL `label_values(...)` query lists, refreshed with the time range, sorted.
 * `multi`: several values and "All", which sends the listed values (no allValue), so an "All" pod variable
 * means the pods of the chosen apps, not every pod of the namespace.
 */
function queryVariable(name: string, label: string, query: string, multi = false): dashboard.QueryVariableBuilder {
  const v = new dashboard.QueryVariableBuilder(name)
    .label(label)
    .datasource(PROMETHEUS)
    .query({ qryType: 1, query, refId: 'PrometheusVariableQueryEditor-VariableQuery' })
    .refresh(dashboard.VariableRefresh.OnTimeRangeChanged)
    .sort(dashboard.VariableSort.AlphabeticalAsc);
  return multi ? v.multi(true).includeAll(true) : v;
}

function appVariables(): dashboard.QueryVariableBuilder[] {
  return [
    queryVariable('namespace', 'Namespace', `label_values(${DURATION}_count, namespace)`),
    queryVariable('app', 'App', `label_values(${DURATION}_count{namespace="$namespace"}, app)`),
  ];
}

/** The app dashboard as Grafana's dashboard JSON model. */
export function buildAppDashboard(options: DashboardOptions): dashboard.Dashboard {
  // With the kubelets' cAdvisor series and the app rule (kube-state-metrics and the stack's rules), CPU and memory
  // come from the containers, so the dashboard serves an app in any language.
  const containers = (options.kubelet ?? false) && (options.kubeStateMetrics ?? false);
  const ofApp = `* on (namespace, pod) group_left (app) ${POD_APP_RECORD}{${APP_SELECTOR}}`;
  const rate = (selector: string) => `rate(${DURATION}_count{${selector}}[$__rate_interval])`;
  const quantile = (q: number, by: string) =>
    `histogram_quantile(${q}, sum by (${by}) (rate(${DURATION}_bucket{${APP_SELECTOR}}[$__rate_interval])))`;

  const builder = dashboardFrame('App: requests, process and logs', APP_DASHBOARD_UID, 'app', { from: 'now-1h', refresh: '30s' })
    .variables(appVariables())

    .withRow(new dashboard.RowBuilder('Requests'))
    .withPanel(
      new stat.PanelBuilder()
        .title('Requests per second')
        .description('All requests the app answered, errors included; /metrics and the probes are not counted.')
        .datasource(PROMETHEUS).unit('reqps').height(4).span(6)
        .withTarget(promQuery(`sum(${rate(APP_SELECTOR)})`, 'requests/s')),
    )
    .withPanel(
      new stat.PanelBuilder()
        .title('Errors (5xx)')
        .description('Share of the answered requests that failed with a 5xx status (0 when none did).')
        .datasource(PROMETHEUS).unit('percentunit').height(4).span(6)
        // `or vector(0)`: with no 5xx series at all the numerator is empty, and a healthy app would show "No data".
        .withTarget(promQuery(`(sum(${rate(`${APP_SELECTOR}, status_code=~"5.."`)}) or vector(0)) / sum(${rate(APP_SELECTOR)})`, '5xx share')),
    )
    .withPanel(
      new stat.PanelBuilder()
        .title('Latency p95')
        .description('95th percentile of the request duration, all routes.')
        .datasource(PROMETHEUS).unit('s').height(4).span(6)
        .withTarget(promQuery(quantile(0.95, 'le'), 'p95')),
    )
    .withPanel(
      new stat.PanelBuilder()
        .title('Targets up')
        .description('Scrape targets of the app that answered the last scrape, out of all of them.')
        .datasource(PROMETHEUS).height(4).span(6)
        .withTarget(promQuery(`sum(up{${APP_SELECTOR}})`, 'up', 'A'))
        .withTarget(promQuery(`count(up{${APP_SELECTOR}})`, 'targets', 'B')),
    )
    .withPanel(timeSeries('Requests per second by route', 'Route is the matched template (e.g. /api/items/:id) or "unmatched".', 'reqps', [
      promQuery(`sum by (route) (${rate(APP_SELECTOR)})`, '{{route}}'),
    ]))
    .withPanel(timeSeries('Requests per second by status code', 'Every status the app answered.', 'reqps', [
      promQuery(`sum by (status_code) (${rate(APP_SELECTOR)})`, '{{status_code}}'),
    ]))
    // Exemplars on the first query of a panel only: Grafana asks for them once per histogram in a panel, for
    // its first query (shouldRunExemplarQuery, packages/grafana-prometheus/src/datasource.ts), and skips a later one.
    .withPanel(timeSeries('Latency, all routes', `Request duration quantiles from the histogram (OpenTelemetry buckets). ${EXEMPLARS_HINT}`, 's', [
      promQuery(quantile(0.5, 'le'), 'p50', 'A').exemplar(true),
      promQuery(quantile(0.95, 'le'), 'p95', 'B'),
      promQuery(quantile(0.99, 'le'), 'p99', 'C'),
    ]))
    .withPanel(timeSeries('Latency p95 by route', `95th percentile of the request duration per route template. ${EXEMPLARS_HINT}`, 's', [
      promQuery(quantile(0.95, 'le, route'), '{{route}}').exemplar(true),
    ]))

    .withRow(new dashboard.RowBuilder(containers ? 'Resources' : 'Process'))
    .withPanel(containers
      ? timeSeries('CPU', 'CPU cores the app\'s containers use, per pod (cAdvisor through the kubelet: any language).', 'short', [
        promQuery(`sum by (pod) (rate(container_cpu_usage_seconds_total{job="cadvisor", container!="", namespace="$namespace"}[$__rate_interval]) ${ofApp})`, '{{pod}}'),
      ]).span(8).interval('1m')
      : timeSeries('CPU', 'CPU time used per second, per pod.', 'percentunit', [
        promQuery(`sum by (pod) (rate(process_cpu_seconds_total{${APP_SELECTOR}}[$__rate_interval]))`, '{{pod}}'),
      ]).span(8))
    .withPanel(containers
      ? timeSeries('Memory working set', 'Memory the app\'s containers hold that the kernel cannot reclaim, per pod: what the limit and an OOM kill are measured against.', 'bytes', [
        promQuery(`sum by (pod) (container_memory_working_set_bytes{job="cadvisor", container!="", namespace="$namespace"} ${ofApp})`, '{{pod}}'),
      ]).span(8).interval('1m')
      : timeSeries('Memory (resident)', 'Resident set size per pod.', 'bytes', [
        promQuery(`sum by (pod) (process_resident_memory_bytes{${APP_SELECTOR}})`, '{{pod}}'),
      ]).span(8))
    .withPanel(timeSeries('Event loop lag p99', "Node.js event loop delay, 99th percentile (prom-client's default metrics; Node.js apps only).", 's', [
      promQuery(`max by (pod) (nodejs_eventloop_lag_p99_seconds{${APP_SELECTOR}})`, '{{pod}}'),
    ]).span(8));

  if (options.loki) {
    const stream = `{${APP_SELECTOR}}`;
    builder
      .withRow(new dashboard.RowBuilder('Logs'))
      .withPanel(
        new timeseries.PanelBuilder()
          .title('Log lines per second by level')
          .description('Lines of the app\'s containers, by the level field of their JSON (app/ logs one line per request).')
          .datasource(LOKI).unit('short').min(0).height(8).span(24).fillOpacity(10)
          .withTarget(new loki.DataqueryBuilder().datasource(LOKI).expr(`sum by (level) (rate(${stream} | json level | __error__="" [$__auto]))`).legendFormat('{{level}}').refId('A')),
      )
      .withPanel(
        new logs.PanelBuilder()
          .title('Fatal errors, errors and warnings')
          .description('Lines whose level is fatal, critical, error, warn or warning, in any case (pino, Go\'s slog, Python\'s logging and Logback name them differently): failed requests carry their stack under err.')
          .datasource(LOKI).height(10).span(24).showTime(true).wrapLogMessage(true).enableLogDetails(true).sortOrder(common.LogsSortOrder.Descending)
          .withTarget(new loki.DataqueryBuilder().datasource(LOKI).expr(`${stream} | json level | level=~"${PROBLEM_LEVELS}"`).refId('A')),
      )
      .withPanel(
        new logs.PanelBuilder()
          .title('All lines')
          .description('Search a request by its id with: | json | request_id="…"')
          .datasource(LOKI).height(12).span(24).showTime(true).wrapLogMessage(true).enableLogDetails(true).sortOrder(common.LogsSortOrder.Descending)
          .withTarget(new loki.DataqueryBuilder().datasource(LOKI).expr(stream).refId('A')),
      );
  }
  return withPanelIds(builder.build());
}

/**
 * What every dashboard of the stack shares: its fixed uid, the generated-file description, the stack's tag and
 * its own, editable (changes are not saved to the file), the browser's time zone, a shared crosshair.
 */
function dashboardFrame(title: string, uid: string, tag: string, o: { from: string; refresh: string }): dashboard.DashboardBuilder {
  return new dashboard.DashboardBuilder(title)
    .uid(uid)
    .description(DESCRIPTION)
    .tags(['observability-stack', tag])
    .editable()
    .time({ from: o.from, to: 'now' })
    .timezone('browser')
    .refresh(o.refresh)
    .tooltip(dashboard.DashboardCursorSync.Crosshair);
}

/**
 * Panel ids, unique within the dashboard (the builders leave them unset, rows at 0): links and Grafana's
 * panel-level URLs (viewPanel=<id>) use them.
 */
function withPanelIds(built: dashboard.Dashboard): dashboard.Dashboard {
  (built.panels ?? []).forEach((panel, i) => (panel.id = i + 1));
  return built;
}

/** `sum by (<by>) (rate(<metric>[$__rate_interval]))`, the shape of most of the Stack health queries. */
function sumRate(metric: string, by: string): string {
  return `sum by (${by}) (rate(${metric}[$__rate_interval]))`;
}

/**
 * The same rate over Promtail's client metrics (prefix `promtail`) and Alloy's loki.write ones (`loki_write`),
 * which count alike, summed after the `or`: whichever agent runs answers, and where both run (a second agent
 * in the cluster) neither hides the other.
 */
function eitherAgent(metric: (prefix: string) => string, by: string): string {
  const rate = (prefix: string) => `rate(${metric(prefix)}[$__rate_interval])`;
  return `sum by (${by}) (${rate('promtail')} or ${rate('loki_write')})`;
}

/** A stat that is green at 0 and red from 1: a count of things down. */
function downCount(title: string, description: string, expr: string): stat.PanelBuilder {
  return new stat.PanelBuilder()
    .title(title)
    .description(description)
    .datasource(PROMETHEUS).height(4).span(12)
    .colorMode(common.BigValueColorMode.Background)
    .thresholds(new dashboard.ThresholdsConfigBuilder().mode(dashboard.ThresholdsMode.Absolute).steps([{ value: null, color: 'green' }, { value: 1, color: 'red' }]))
    // `or vector(0)`: with nothing down the count is empty, and a healthy stack would show "No data".
    .withTarget(promQuery(`count(${expr}) or vector(0)`, 'down'));
}

/** The Stack health dashboard as Grafana's dashboard JSON model. */
export function buildStackDashboard(options: DashboardOptions): dashboard.Dashboard | undefined {
  // No such stack: the stack's own Loki always comes with the log agent.
  if (options.lokiMetrics && !options.loki) return undefined;
  const stackApps = stackAppsOf(options.cadvisorComponent ?? false);
  const stackUp = `up{app=~"${stackApps.join('|')}"}`;
  const byPod = 'namespace, pod';
  const builder = dashboardFrame('Stack health: targets, Prometheus, Loki, log agent, Alertmanager', STACK_DASHBOARD_UID, 'stack', { from: 'now-3h', refresh: '1m' })

    .withRow(new dashboard.RowBuilder('Targets'))
    .withPanel(downCount('Stack components down',
      `The stack's own targets (app ${stackApps.join(', ')}) that failed their last scrape. One down for 5 minutes fires StackComponentDown. A pod that is not running has no target at all: see the pods.`,
      `${stackUp} == 0`))
    .withPanel(downCount('Targets down',
      'Every target Prometheus scrapes (the stack, the apps, the kubelets) that failed its last scrape; the panel below says which.',
      'up == 0'))
    .withPanel(timeSeries('Targets up by job, namespace and app', 'Targets that answered, per job, namespace and app (the kubelets and kube-state-metrics have their own jobs and no app): a dip is a target that failed its scrape (its error is on Prometheus\'s /targets page).', 'short', [
      promQuery('sum by (job, namespace, app) (up)', '{{job}} {{namespace}}/{{app}}'),
    ]).span(24));

  // The stack's own Prometheus; a Prometheus of the user's is theirs to watch (its series carry no `app` of the stack's).
  if (options.prometheus ?? true) {
    builder
      .withRow(new dashboard.RowBuilder('Prometheus'))
      .withPanel(timeSeries('Series in the head block', 'Active series held in memory: memory use follows this number. A steady climb is usually a label with unbounded values.', 'short', [
        promQuery(`sum by (${byPod}) (prometheus_tsdb_head_series)`, '{{namespace}}/{{pod}}'),
      ]).span(8))
      .withPanel(timeSeries('Samples ingested per second', 'Samples appended to the head block, every scrape and rule together.', 'cps', [
        promQuery(sumRate('prometheus_tsdb_head_samples_appended_total', byPod), '{{namespace}}/{{pod}}'),
      ]).span(8))
      .withPanel(timeSeries('Storage: blocks on disk', 'Bytes of the persisted blocks. Retention by size (prometheus.retentionSize) counts these plus the write-ahead log and the head\'s chunks, so it deletes blocks a little before this line reaches it.', 'bytes', [
        promQuery(`sum by (${byPod}) (prometheus_tsdb_storage_blocks_bytes)`, '{{namespace}}/{{pod}}'),
      ]).span(8));
  }

  if (options.lokiMetrics ?? options.loki) {
    builder
      .withRow(new dashboard.RowBuilder('Loki'))
      .withPanel(timeSeries('Log lines received per second', 'Lines pushed to Loki by the log agents (Loki\'s own internal streams not counted).', 'cps', [
        promQuery(sumRate('loki_distributor_lines_received_total{is_internal_stream!="true"}', byPod), '{{namespace}}/{{pod}}'),
      ]).span(6))
      .withPanel(timeSeries('Log bytes received per second', 'Uncompressed bytes of the pushed lines, structured metadata included: what Loki\'s ingestion rate limits (loki.ingestionLimits) count.', 'Bps', [
        promQuery(sumRate('loki_distributor_bytes_received_total{is_internal_stream!="true"}', byPod), '{{namespace}}/{{pod}}'),
      ]).span(6))
      .withPanel(timeSeries('Lines refused per second, by reason', 'Lines Loki did not take, counted at every attempt (a batch refused three times counts three times): rate_limited (the tenant\'s rate and burst) and per_stream_rate_limit are answered 429 and retried by the agent; line_too_long and the other validation reasons are answered 400 and not retried, and the agent then counts the whole batch as dropped below, though Loki kept its valid lines (loki.ingestionLimits).', 'cps', [
        promQuery(sumRate('loki_discarded_samples_total', 'reason'), '{{reason}}'),
      ]).span(6))
      .withPanel(timeSeries('HTTP requests per second by status', 'Every HTTP request Loki answered (pushes, queries, and the scrapes and probes too) by status: 5xx is Loki failing (LokiRequestErrors), 429 is a limit refusing a push. Loki\'s internal gRPC calls are left out.', 'reqps', [
        promQuery(sumRate('loki_request_duration_seconds_count{method!="gRPC"}', 'status_code'), '{{status_code}}'),
      ]).span(6));
  }
  if (options.loki) {
    builder
      .withRow(new dashboard.RowBuilder('Log agent'))
      .withPanel(timeSeries('Lines sent to Loki per second', 'Lines each agent pod delivered to Loki (Promtail or Alloy, whichever the stack runs).', 'cps', [
        promQuery(eitherAgent((prefix) => `${prefix}_sent_entries_total`, byPod), '{{namespace}}/{{pod}}'),
      ]).span(8))
      .withPanel(timeSeries('Lines dropped per second, by reason', 'Lines the agent gave up on after all its retries: they are not in Loki. Anything above 0 fires the agent\'s DroppingLines alert.', 'cps', [
        promQuery(eitherAgent((prefix) => `${prefix}_dropped_entries_total`, 'reason'), '{{reason}}'),
      ]).span(8))
      .withPanel(timeSeries('Pushes per second by status', 'The agents\' push requests to Loki by HTTP status: anything but 2xx is retried, then dropped.', 'reqps', [
        promQuery(eitherAgent((prefix) => `${prefix}_request_duration_seconds_count`, 'status_code'), '{{status_code}}'),
      ]).span(8));
  }

  if (options.alertmanager) {
    builder
      .withRow(new dashboard.RowBuilder('Alertmanager'))
      .withPanel(timeSeries('Alerts', 'Alerts Alertmanager holds, by state: active ones are routed to the receivers, suppressed ones are silenced or inhibited, unprocessed ones have just arrived. With the stack\'s rules one is always active: the Watchdog, which notifies nobody; none at all then means no alert arrives.', 'short', [
        promQuery('sum by (state) (alertmanager_alerts)', '{{state}}'),
      ]).span(8))
      .withPanel(timeSeries('Alerts Prometheus sends per second', 'Alerts Prometheus delivered to Alertmanager, and the ones that met an error (PrometheusNotificationsFailing).', 'cps', [
        promQuery('sum(rate(prometheus_notifications_sent_total[$__rate_interval]))', 'sent', 'A'),
        promQuery('sum(rate(prometheus_notifications_errors_total[$__rate_interval]))', 'errors', 'B'),
      ]).span(8))
      .withPanel(timeSeries('Notifications per second', 'Notifications Alertmanager attempted, and the ones that failed: a person was not reached (AlertmanagerNotificationsFailing). Per receiver kind: sum by (integration) of the same counters in Explore.', 'cps', [
        promQuery('sum(rate(alertmanager_notifications_total[$__rate_interval]))', 'attempted', 'A'),
        promQuery('sum(rate(alertmanager_notifications_failed_total[$__rate_interval]))', 'failed', 'B'),
      ]).span(8));
  }
  return withPanelIds(builder.build());
}

/**
 * The Containers dashboard: CPU, memory, throttling and network of every container from the kubelets' cAdvisor
 * series, in any language; with kube-state-metrics also each container's requests and limits, restarts and OOM
 * kills, and the `app` variable (namespace_pod:app:info). Without the kubelet jobs there is no such dashboard.
 * `kubeStateMetrics` here means kube-state-metrics and the stack's rules (prometheus.alertRules), which hold the app rule.
 */
export function buildContainersDashboard(options: DashboardOptions): dashboard.Dashboard | undefined {
  if (!options.kubelet) return undefined;
  const ksm = options.kubeStateMetrics ?? false;
  const sel = 'namespace="$namespace", pod=~"$pod"';
  const cadvisor = `job="cadvisor", container!="", ${sel}`;
  const byContainer = 'pod, container';
  const legend = '{{pod}} / {{container}}';
  const variables = [
    queryVariable('namespace', 'Namespace', 'label_values(container_cpu_usage_seconds_total{job="cadvisor"}, namespace)'),
    ...(ksm ? [
      queryVariable('app', 'App', `label_values(${POD_APP_RECORD}{namespace="$namespace"}, app)`, true),
      queryVariable('pod', 'Pod', `label_values(${POD_APP_RECORD}{namespace="$namespace", app=~"$app"}, pod)`, true),
    ] : [
      queryVariable('pod', 'Pod', 'label_values(container_cpu_usage_seconds_total{job="cadvisor", namespace="$namespace"}, pod)', true),
    ]),
  ];
  const resource = (kind: 'requests' | 'limits', res: 'cpu' | 'memory') =>
    promQuery(`sum by (${byContainer}) (kube_pod_container_resource_${kind}{job="kube-state-metrics", resource="${res}", ${sel}})`, `${kind === 'requests' ? 'request' : 'limit'}: ${legend}`, kind === 'requests' ? 'B' : 'C');

  const builder = dashboardFrame(ksm ? 'Containers: CPU, memory, restarts, network' : 'Containers: CPU, memory, network', CONTAINERS_DASHBOARD_UID, 'containers', { from: 'now-1h', refresh: '1m' })
    .variables(variables)

    .withRow(new dashboard.RowBuilder('CPU and memory'))
    .withPanel(timeSeries('CPU used', `CPU cores each container uses (cAdvisor, through the kubelet)${ksm ? ', with its request and limit (kube-state-metrics)' : ''}.`, 'short', [
      promQuery(`sum by (${byContainer}) (rate(container_cpu_usage_seconds_total{${cadvisor}}[$__rate_interval]))`, legend),
      ...(ksm ? [resource('requests', 'cpu'), resource('limits', 'cpu')] : []),
    ]))
    .withPanel(timeSeries('Memory working set', `The memory each container holds that the kernel cannot reclaim: what its limit and an OOM kill are measured against${ksm ? '; with its request and limit' : ''}.`, 'bytes', [
      promQuery(`sum by (${byContainer}) (container_memory_working_set_bytes{${cadvisor}})`, legend),
      ...(ksm ? [resource('requests', 'memory'), resource('limits', 'memory')] : []),
    ]))
    .withPanel(timeSeries('CPU throttling', 'Share of the scheduler\'s periods in which the CPU limit stopped the container (only containers with a CPU limit). Above 25% for 15 minutes fires ContainerCPUThrottlingHigh.', 'percentunit', [
      promQuery(
        `sum by (${byContainer}) (increase(container_cpu_cfs_throttled_periods_total{${cadvisor}}[$__rate_interval]))` +
        ` / sum by (${byContainer}) (increase(container_cpu_cfs_periods_total{${cadvisor}}[$__rate_interval]))`, legend),
    ]).max(1))
    .withPanel(timeSeries('Network received and sent per pod', 'Bytes per second on the pod\'s interfaces (a pod\'s containers share them; on containerd the sandbox container carries them).', 'Bps', [
      promQuery(`sum by (pod) (rate(container_network_receive_bytes_total{job="cadvisor", ${sel}}[$__rate_interval]))`, 'received: {{pod}}', 'A'),
      promQuery(`sum by (pod) (rate(container_network_transmit_bytes_total{job="cadvisor", ${sel}}[$__rate_interval]))`, 'sent: {{pod}}', 'B'),
    ]));

  if (ksm) {
    builder
      .withRow(new dashboard.RowBuilder('Restarts and OOM kills'))
      .withPanel(timeSeries('Restarts in the last hour', 'Container restarts over the hour before each point. A crash loop fires KubePodCrashLooping; an out-of-memory kill, ContainerOOMKilled.', 'short', [
        promQuery(`sum by (${byContainer}) (increase(kube_pod_container_status_restarts_total{job="kube-state-metrics", ${sel}}[1h]))`, legend),
      ]))
      .withPanel(timeSeries('Last exit was an OOM kill', '1 while a container\'s last termination was an out-of-memory kill (kube-state-metrics): its limit, or the node\'s memory, ran out. No data: no container of these pods ended its last run that way (a new pod starts without a last termination).', 'short', [
        promQuery(`sum by (${byContainer}) (kube_pod_container_status_last_terminated_reason{job="kube-state-metrics", reason="OOMKilled", ${sel}})`, legend),
      ]).max(1));
  }
  const built = withPanelIds(builder.build());
  // A minimum interval of 1 minute: Grafana's $__rate_interval is then at least 4 minutes, 4 scrapes of the
  // kubelet jobs at their longest interval (kubelet.scrapeIntervalSeconds is at most 60).
  for (const panel of built.panels ?? []) if ('targets' in panel) (panel as { interval?: string }).interval = '1m';
  return built;
}

/**
 * The Nodes dashboard, USE style (utilisation, saturation, errors) from node-exporter's series: CPU and load,
 * memory, file systems and disks, and, where node-exporter has the host's network, the network. One line per
 * node (`node`, the node's name; "docker-host" on compose). Without node-exporter there is no such dashboard.
 * The thresholds its descriptions name are the nodes' alerts' (lib/render/alert-rules.ts nodeAlerts).
 */
export function buildNodesDashboard(options: DashboardOptions): dashboard.Dashboard | undefined {
  if (!options.nodeExporter) return undefined;
  const sel = `${NODE_SELECTOR}, node=~"$node"`;
  const fs = `${sel}, fstype!="", mountpoint!=""`;
  const builder = dashboardFrame('Nodes: CPU, memory, disks, network', NODES_DASHBOARD_UID, 'nodes', { from: 'now-1h', refresh: '1m' })
    .variables([queryVariable('node', 'Node', `label_values(node_memory_MemTotal_bytes{${NODE_SELECTOR}}, node)`, true)])

    .withRow(new dashboard.RowBuilder('CPU and memory'))
    .withPanel(timeSeries('CPU used', 'Share of the node\'s CPU time spent working, over all its cores: neither idle nor waiting for I/O (as node-mixin counts it; I/O wait shows on Disk busy).', 'percentunit', [
      promQuery(`sum by (node) (rate(node_cpu_seconds_total{${sel}, mode!~"idle|iowait"}[$__rate_interval])) / count by (node) (node_cpu_seconds_total{${sel}, mode="idle"})`, '{{node}}'),
    ]).max(1))
    .withPanel(timeSeries('Load per core', 'The 1-minute load average divided by the number of cores: above 1, processes wait for a CPU (saturation).', 'short', [
      promQuery(`sum by (node) (node_load1{${sel}}) / count by (node) (node_cpu_seconds_total{${sel}, mode="idle"})`, '{{node}}'),
    ]))
    .withPanel(timeSeries('Memory used', `Share of the node's memory not available to new work (1 - MemAvailable / MemTotal). Above ${NODE_MEMORY_HIGH_RATIO * 100}% for 15 minutes fires NodeMemoryHighUtilization.`, 'percentunit', [
      promQuery(`1 - sum by (node) (node_memory_MemAvailable_bytes{${sel}}) / sum by (node) (node_memory_MemTotal_bytes{${sel}})`, '{{node}}'),
    ]).max(1))
    .withPanel(timeSeries('Memory available', 'Memory the node can give to new work without swapping (MemAvailable).', 'bytes', [
      promQuery(`sum by (node) (node_memory_MemAvailable_bytes{${sel}})`, '{{node}}'),
    ]))

    .withRow(new dashboard.RowBuilder('File systems and disks'))
    .withPanel(timeSeries('File system space used', 'Share of each file system\'s space in use (the node\'s disks; containers\' overlays and volumes are left out). NodeFilesystemSpaceFillingUp fires when one is filling up, NodeFilesystemAlmostOutOfSpace when it is nearly full.', 'percentunit', [
      promQuery(`1 - sum by (node, mountpoint) (node_filesystem_avail_bytes{${fs}}) / sum by (node, mountpoint) (node_filesystem_size_bytes{${fs}})`, '{{node}} {{mountpoint}}'),
    ]).max(1))
    .withPanel(timeSeries('File system inodes used', 'Share of each file system\'s inodes in use: millions of small files can fill a disk that still has space. NodeFilesystemAlmostOutOfFiles fires when one is nearly out.', 'percentunit', [
      promQuery(`1 - sum by (node, mountpoint) (node_filesystem_files_free{${fs}}) / sum by (node, mountpoint) (node_filesystem_files{${fs}})`, '{{node}} {{mountpoint}}'),
    ]).max(1))
    .withPanel(timeSeries('Disk busy', 'Share of the time each disk was busy with I/O (utilisation): near 100%, I/O waits.', 'percentunit', [
      promQuery(`sum by (node, device) (rate(node_disk_io_time_seconds_total{${sel}}[$__rate_interval]))`, '{{node}} {{device}}'),
    ]).max(1))
    .withPanel(timeSeries('Disk read and written', 'Bytes per second read from and written to each device, one line each (not summed: an LVM, LUKS or RAID device and the disks under it carry the same bytes).', 'Bps', [
      promQuery(`sum by (node, device) (rate(node_disk_read_bytes_total{${sel}}[$__rate_interval]))`, 'read: {{node}} {{device}}', 'A'),
      promQuery(`sum by (node, device) (rate(node_disk_written_bytes_total{${sel}}[$__rate_interval]))`, 'written: {{node}} {{device}}', 'B'),
    ]));

  if (options.nodeNetwork ?? true) {
    const dev = `${sel}, device!="lo"`;
    builder
      .withRow(new dashboard.RowBuilder('Network'))
      .withPanel(timeSeries('Network received and sent', 'Bytes per second on each of the node\'s interfaces, one line each (not summed: a bridge, a tunnel or a bond and the interfaces under it carry the same bytes). Loopback and the pods\' veth ends are left out: each pod\'s traffic is on the Containers dashboard.', 'Bps', [
        promQuery(`sum by (node, device) (rate(node_network_receive_bytes_total{${dev}}[$__rate_interval]))`, 'received: {{node}} {{device}}', 'A'),
        promQuery(`sum by (node, device) (rate(node_network_transmit_bytes_total{${dev}}[$__rate_interval]))`, 'sent: {{node}} {{device}}', 'B'),
      ]))
      .withPanel(timeSeries('Network errors', 'Packets per second received or sent with errors, on each of the node\'s interfaces: a bad cable, NIC or driver.', 'pps', [
        promQuery(`sum by (node, device) (rate(node_network_receive_errs_total{${dev}}[$__rate_interval]))`, 'received: {{node}} {{device}}', 'A'),
        promQuery(`sum by (node, device) (rate(node_network_transmit_errs_total{${dev}}[$__rate_interval]))`, 'sent: {{node}} {{device}}', 'B'),
      ]));
  }
  return withPanelIds(builder.build());
}

/** A dashboard the stack provisions: its file, the components its rows depend on, and how it is built. */
export interface DashboardSpec {
  readonly file: string;
  readonly dependsOn: ReadonlyArray<keyof DashboardOptions>;
  /** The dashboard for these options, or undefined where it has nothing to show (no file then). */
  readonly build: (options: DashboardOptions) => dashboard.Dashboard | undefined;
}

/** Every dashboard, in the order of their files. */
export const DASHBOARDS: readonly DashboardSpec[] = [
  { file: APP_DASHBOARD_FILE, dependsOn: ['loki', 'kubelet', 'kubeStateMetrics'], build: buildAppDashboard },
  { file: STACK_DASHBOARD_FILE, dependsOn: ['prometheus', 'loki', 'lokiMetrics', 'alertmanager'], build: buildStackDashboard },
  { file: CONTAINERS_DASHBOARD_FILE, dependsOn: ['kubelet', 'kubeStateMetrics'], build: buildContainersDashboard },
  { file: NODES_DASHBOARD_FILE, dependsOn: ['nodeExporter'], build: buildNodesDashboard },
];

function toJson(d: dashboard.Dashboard): string {
  return `${JSON.stringify(d, null, 2)}\n`;
}

/** Every dashboard file: name in the provider's directory → JSON (2-space indented, newline at the end). */
export function renderDashboards(options: DashboardOptions): Map<string, string> {
  const files = new Map<string, string>();
  for (const d of DASHBOARDS) {
    const built = d.build(options);
    if (built) files.set(d.file, toJson(built));
  }
  return files;
}

/**
 * The name of a dashboard's variant: the components it depends on that are on, joined by "-", or "none".
 * The Helm chart computes the same name from its values (templates/grafana/configmap-dashboards.yaml).
 */
export function dashboardVariant(spec: DashboardSpec, options: DashboardOptions): string {
  return variantName(spec.dependsOn, { ...options, lokiMetrics: options.lokiMetrics ?? options.loki, prometheus: options.prometheus ?? true });
}

/** The chart's index of dashboards: each file, its directory of variants, and the components it depends on. */
export interface DashboardIndex {
  /** `variants`: the variants that exist (a dashboard with nothing to show in a variant has no file there). */
  readonly dashboards: Array<{ file: string; dir: string; dependsOn: string[]; variants: string[] }>;
}

/**
 * Every variant of every dashboard, for the Helm chart, which cannot run TypeScript: one file per combination
 * of the components each dashboard depends on (`<name>/<variant>.json`), and the index the chart reads.
 */
export function dashboardVariants(): { index: DashboardIndex; files: Map<string, string> } {
  const files = new Map<string, string>();
  const index: DashboardIndex = { dashboards: [] };
  for (const spec of DASHBOARDS) {
    const dir = spec.file.replace(/\.json$/, '');
    const variants: string[] = [];
    for (const on of everyCombination(spec.dependsOn)) {
      const options: DashboardOptions = { loki: false, alertmanager: false, ...on };
      const built = spec.build(options);
      if (!built) continue;
      variants.push(dashboardVariant(spec, options));
      files.set(`${dir}/${dashboardVariant(spec, options)}.json`, toJson(built));
    }
    index.dashboards.push({ file: spec.file, dir, dependsOn: [...spec.dependsOn], variants });
  }
  return { index, files };
}
