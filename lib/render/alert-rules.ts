/**
 * The stack's alerting and recording rules (one Prometheus rule file). The same groups feed the
 * ConfigMap Prometheus loads, the optional PrometheusRule, and compose's rule file.
 */

export interface Rule {
  record?: string;
  alert?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export interface RuleGroup {
  name: string;
  rules: Rule[];
}

/** File name of the rendered rule file inside the rules directory. */
export const RULES_FILE = 'stack-rules.yaml';

/** Error ratio above which the app alerts (share of requests answered 5xx over 5 minutes). */
export const APP_ERROR_RATIO_THRESHOLD = 0.1;
/** p99 latency above which the app alerts, in seconds. */
export const APP_P99_SECONDS_THRESHOLD = 1;
/** The `app` label of the stack's own components (their Kubernetes name, their compose service): StackComponentDown, not TargetDown. */
export const STACK_APPS = ['prometheus', 'loki', 'promtail', 'alloy', 'alertmanager', 'grafana'] as const;
/** The stack's own components by `app`: compose's cAdvisor among them where the stack runs it. */
export function stackAppsOf(cadvisorComponent: boolean): string[] {
  return [...STACK_APPS, ...(cadvisorComponent ? ['cadvisor'] : [])];
}
/** Share of Loki's requests answered 5xx, and of the log agent's pushes that fail, above which they alert. */
export const LOGS_ERROR_RATIO_THRESHOLD = 0.05;
/** Share of the alerts Prometheus sends that meet an error, above which it alerts. */
export const NOTIFICATION_ERROR_RATIO_THRESHOLD = 0.01;
/** Share of the samples sent to a remote-write queue that are refused for good, above which it alerts. */
export const REMOTE_WRITE_FAILURE_RATIO_THRESHOLD = 0.01;
/** How far, in seconds, a remote-write queue may lag behind what Prometheus ingests before it alerts. */
export const REMOTE_WRITE_LAG_THRESHOLD_SECONDS = 600;
/**
 * The alert that always fires (with Alertmanager): it proves rules are evaluated and their alerts reach Alertmanager,
 * whichever Prometheus evaluates them (`npm run verify` looks for it there). Severity `none`, as kube-prometheus names
 * it: Alertmanager routes it to the `null` receiver only, so it notifies nobody.
 */
export const WATCHDOG_ALERT = 'Watchdog';
/**
 * A label only the stack's Watchdog carries: kube-prometheus has a Watchdog of its own with the same name and severity,
 * so a Prometheus that evaluates only that one must not pass for one that evaluates the stack's rules.
 */
export const WATCHDOG_LABEL: Readonly<Record<string, string>> = { watchdog: 'observability-stack' };
/** Share of prometheus.retentionSize the blocks use, above which it alerts (size, not days, decides retention). */
export const RETENTION_SIZE_RATIO_THRESHOLD = 0.9;

/**
 * What the rules depend on: whether Prometheus sends to an Alertmanager (its connection is then watched), and
 * whether kube-state-metrics runs (the `app` of container series, and the alerts that read the cluster's
 * objects). The Helm chart carries one rule file per combination (RULES_DEPEND_ON, lib/render/variants.ts).
 */
export interface AlertRulesOptions {
  /** @default true */
  readonly alertmanager?: boolean;
  /** @default false */
  readonly kubeStateMetrics?: boolean;
  /** Whether Prometheus scrapes the kubelets (cAdvisor's container series). @default false */
  readonly kubelet?: boolean;
  /** Whether node-exporter runs (the nodes' alerts). @default false */
  readonly nodeExporter?: boolean;
  /**
   * Whether the stack runs cAdvisor itself (compose; on Kubernetes the kubelets serve its series): its target is
   * then one of the stack's components (StackComponentDown), not a user's app. Not a chart variant. @default false
   */
  readonly cadvisorComponent?: boolean;
}

/** The options the rule file varies by, in the order of its variants' names. */
export const RULES_DEPEND_ON = ['alertmanager', 'kubeStateMetrics', 'kubelet', 'nodeExporter'] as const;

/** node-exporter's series: its job, and the file systems its rules and panels look at (the excluded ones never reach Prometheus). */
export const NODE_SELECTOR = 'job="node-exporter"';
const FS = `${NODE_SELECTOR}, fstype!="", mountpoint!=""`;
/** Share of a node's memory in use (1 - MemAvailable/MemTotal) above which it alerts (node-mixin's 90%). */
export const NODE_MEMORY_HIGH_RATIO = 0.9;

/**
 * The nodes' alerts, adapted from node-mixin at node_exporter v1.12.1 (docs/node-mixin/alerts/alerts.libsonnet,
 * its thresholds from docs/node-mixin/config.libsonnet) with job="node-exporter": file systems filling up
 * (predicted by the last 6 hours' trend) or almost full, of space and of inodes, read-only ones left out;
 * memory nearly used up; and the exporter itself gone.
 */
export function nodeAlerts(): Rule[] {
  const where = 'on {{ $labels.device }}, mounted on {{ $labels.mountpoint }}, at {{ $labels.node }}';
  const avail = (m: 'avail_bytes' | 'files_free') => `node_filesystem_${m}{${FS}} / node_filesystem_${m === 'avail_bytes' ? 'size_bytes' : 'files'}{${FS}} * 100`;
  const writable = `node_filesystem_readonly{${FS}} == 0`;
  const fillingUp = (severity: 'warning' | 'critical', percent: number, hours: number): Rule => ({
    alert: 'NodeFilesystemSpaceFillingUp',
    expr: `(${avail('avail_bytes')} < ${percent} and predict_linear(node_filesystem_avail_bytes{${FS}}[6h], ${hours} * 60 * 60) < 0 and ${writable})`,
    for: '1h',
    labels: { severity },
    annotations: {
      summary: `A file system of {{ $labels.node }} is predicted to run out of space within ${hours} hours`,
      description: `The file system ${where} has {{ printf "%.2f" $value }}% of its space left and is filling up.`,
      runbook: 'First: what grows (du on the mount point; on Kubernetes often images and container logs: crictl rmi --prune, the kubelet\'s image GC thresholds), then a larger disk.',
    },
  });
  const almostOut = (what: 'space' | 'inodes', severity: 'warning' | 'critical', percent: number): Rule => ({
    alert: what === 'space' ? 'NodeFilesystemAlmostOutOfSpace' : 'NodeFilesystemAlmostOutOfFiles',
    expr: `(${avail(what === 'space' ? 'avail_bytes' : 'files_free')} < ${percent} and ${writable})`,
    for: what === 'space' ? '30m' : '1h',
    labels: { severity },
    annotations: {
      summary: `A file system of {{ $labels.node }} has less than ${percent}% of its ${what} left`,
      description: `The file system ${where} has {{ printf "%.2f" $value }}% of its ${what} left: writes will fail when it is full.`,
      runbook: what === 'space'
        ? 'First: what fills it (du on the mount point), then free space or grow the disk; the kubelet evicts pods when its nodefs is nearly full.'
        : 'First: which directory holds millions of small files (find <mount point> -xdev -type d -size +1M), then remove them.',
    },
  });
  return [
    {
      alert: 'NodeExporterDown',
      expr: `up{${NODE_SELECTOR}} == 0`,
      for: '15m',
      labels: { severity: 'warning' },
      annotations: {
        summary: 'Prometheus cannot scrape node-exporter on {{ $labels.node }}',
        description: 'The node-exporter job has failed to scrape {{ $labels.node }} for 15 minutes: its CPU, memory and disk alerts are blind.',
        runbook: 'First: the node-exporter pod on that node (kubectl -n <node agents\' namespace> get pod -l app.kubernetes.io/name=node-exporter -o wide; on compose, docker compose ps), then the target\'s error on Prometheus\'s /targets page.',
      },
    },
    fillingUp('warning', 40, 24),
    fillingUp('critical', 20, 4),
    almostOut('space', 'warning', 5),
    almostOut('space', 'critical', 3),
    almostOut('inodes', 'warning', 5),
    almostOut('inodes', 'critical', 3),
    {
      alert: 'NodeMemoryHighUtilization',
      expr: `1 - node_memory_MemAvailable_bytes{${NODE_SELECTOR}} / node_memory_MemTotal_bytes{${NODE_SELECTOR}} > ${NODE_MEMORY_HIGH_RATIO}`,
      for: '15m',
      labels: { severity: 'warning' },
      annotations: {
        summary: '{{ $labels.node }} uses {{ $value | humanizePercentage }} of its memory',
        description: 'Less than 10% of the node\'s memory has been available for 15 minutes: the kernel\'s OOM killer, or the kubelet\'s eviction, is near.',
        runbook: 'First: which containers use it (the Containers dashboard, memory by pod on that node), then their limits; requests above the node\'s allocatable overcommit it.',
      },
    },
  ];
}

/** Share of its memory limit a container's working set may reach before it alerts. */
export const MEMORY_NEAR_LIMIT_RATIO = 0.9;
/** Share of its CFS periods a container may be throttled in before it alerts (kubernetes-mixin's 25%). */
export const CPU_THROTTLING_RATIO = 0.25;

/**
 * The containers' alerts, adapted from kubernetes-mixin (alerts/apps_alerts.libsonnet, alerts/resource_alerts.libsonnet,
 * as kube-prometheus renders them): what kube-state-metrics knows (crash loops, OOM kills) and, with the kubelet's
 * cAdvisor series, what only usage against limits shows.
 */
export function containerAlerts(o: { kubeStateMetrics: boolean; kubelet: boolean }): Rule[] {
  const who = '{{ $labels.namespace }}/{{ $labels.pod }} ({{ $labels.container }})';
  return [
    ...(o.kubeStateMetrics ? [
      {
        alert: 'KubePodCrashLooping',
        expr: 'max_over_time(kube_pod_container_status_waiting_reason{job="kube-state-metrics", reason="CrashLoopBackOff"}[5m]) >= 1',
        for: '15m',
        labels: { severity: 'warning' },
        annotations: {
          summary: `${who} is crash looping`,
          description: 'The container keeps exiting and Kubernetes waits longer before each restart (CrashLoopBackOff) for 15 minutes.',
          runbook: `First: why it last exited (kubectl -n {{ $labels.namespace }} describe pod {{ $labels.pod }}: Last State), then its log before the exit (kubectl logs --previous).`,
        },
      },
      {
        alert: 'ContainerOOMKilled',
        expr:
          'kube_pod_container_status_last_terminated_reason{job="kube-state-metrics", reason="OOMKilled"} == 1' +
          ' and on (namespace, pod, container) increase(kube_pod_container_status_restarts_total{job="kube-state-metrics"}[10m]) > 0',
        labels: { severity: 'warning' },
        annotations: {
          summary: `${who} was killed for running out of memory`,
          description: 'It restarted in the last 10 minutes, and its last exit was an OOM kill: its memory limit, or the node\'s memory, ran out.',
          runbook: 'First: its memory working set against its limit on the Containers dashboard; then raise the limit or find what grows.',
        },
      },
    ] : []),
    ...(o.kubeStateMetrics && o.kubelet ? [{
      alert: 'ContainerMemoryNearLimit',
      expr:
        'sum by (namespace, pod, container) (container_memory_working_set_bytes{job="cadvisor", container!=""})' +
        ' / sum by (namespace, pod, container) (kube_pod_container_resource_limits{job="kube-state-metrics", resource="memory"})' +
        ` > ${MEMORY_NEAR_LIMIT_RATIO}`,
      for: '15m',
      labels: { severity: 'warning' },
      annotations: {
        summary: `${who} uses {{ $value | humanizePercentage }} of its memory limit`,
        description: 'Its working set has stayed above 90% of its memory limit for 15 minutes: at the limit the kernel kills it.',
        runbook: 'First: whether it grows steadily (a leak) or sits at a plateau (a limit too low), on the Containers dashboard.',
      },
    }] : []),
    ...(o.kubelet ? [{
      alert: 'ContainerCPUThrottlingHigh',
      expr:
        'sum by (namespace, pod, container) (increase(container_cpu_cfs_throttled_periods_total{job="cadvisor", container!=""}[5m]))' +
        ' / sum by (namespace, pod, container) (increase(container_cpu_cfs_periods_total{job="cadvisor", container!=""}[5m]))' +
        ` > ${CPU_THROTTLING_RATIO}`,
      for: '15m',
      labels: { severity: 'warning' },
      annotations: {
        summary: `${who} is CPU-throttled in {{ $value | humanizePercentage }} of its periods`,
        description: 'Its CPU limit stopped it in more than 25% of the scheduler\'s periods over 5 minutes: latency suffers even when average CPU looks low.',
        runbook: 'First: its CPU use against its limit on the Containers dashboard; raise or remove the CPU limit (keep the request).',
      },
    }] : []),
  ];
}

/** The recording rule that gives each pod its `app` (see kubernetesPodAppRules). */
export const POD_APP_RECORD = 'namespace_pod:app:info';

/**
 * One series per pod, value 1, with the pod's `app` as the log agent and the pod job compute it: the pod's
 * `app.kubernetes.io/name` label, else its `app` label (both from kube_pod_labels, by kube-state-metrics'
 * --metric-labels-allowlist), else its controller's name without a ReplicaSet's hash (kube_pod_info's
 * created_by_name), else the pod's name. Join it on (namespace, pod) to give cAdvisor's series their `app`.
 */
export function kubernetesPodAppRules(): Rule[] {
  return [{
    record: POD_APP_RECORD,
    // topk(1): exactly one series per pod even while an old and a new label value are both within the lookback.
    expr:
      'topk by (namespace, pod) (1, max by (namespace, pod, app) (' +
      'label_replace(kube_pod_labels{job="kube-state-metrics", label_app_kubernetes_io_name!=""}, "app", "$1", "label_app_kubernetes_io_name", "(.+)")' +
      ' or on (namespace, pod) label_replace(kube_pod_labels{job="kube-state-metrics", label_app!=""}, "app", "$1", "label_app", "(.+)")' +
      ' or on (namespace, pod) label_replace(kube_pod_info{job="kube-state-metrics", created_by_name!=""}, "app", "$1", "created_by_name", "([0-9a-z-.]+?)(-[0-9a-f]{8,10})?")' +
      ' or on (namespace, pod) label_replace(kube_pod_info{job="kube-state-metrics"}, "app", "$1", "pod", "(.+)")))',
  }];
}

export function renderAlertRules(options: AlertRulesOptions = {}): { groups: RuleGroup[] } {
  const alertmanager = options.alertmanager ?? true;
  const kubeStateMetrics = options.kubeStateMetrics ?? false;
  const kubelet = options.kubelet ?? false;
  const containers = containerAlerts({ kubeStateMetrics, kubelet });
  const stackApps = stackAppsOf(options.cadvisorComponent ?? false).join('|');
  return {
    groups: [
      ...(kubeStateMetrics ? [{ name: 'pod-app', rules: kubernetesPodAppRules() }] : []),
      ...(containers.length > 0 ? [{ name: 'containers', rules: containers }] : []),
      ...(options.nodeExporter ? [{ name: 'nodes', rules: nodeAlerts() }] : []),
      {
        name: 'stack-targets',
        rules: [
          {
            alert: 'TargetDown',
            // Targets of the label contract (pods, compose services) only: the kubelets have KubeletDown.
            expr: `up{app!="", app!~"${stackApps}"} == 0`,
            for: '5m',
            labels: { severity: 'warning' },
            annotations: {
              summary: '{{ $labels.app }} ({{ $labels.namespace }}/{{ $labels.pod }}) cannot be scraped',
              description: 'Prometheus has failed to scrape {{ $labels.instance }} for 5 minutes. Check the pod and its prometheus.io/* annotations.',
              runbook: 'First: is the pod running and ready (kubectl -n {{ $labels.namespace }} get pod {{ $labels.pod }}; on compose, docker compose ps)? Then the target\'s error on Prometheus\'s /targets page.',
            },
          },
          {
            alert: 'KubeletDown',
            // The kubelets' targets carry no `app`; compose's cAdvisor does (StackComponentDown covers it).
            expr: 'up{job=~"kubelet|cadvisor", app=""} == 0',
            for: '15m',
            labels: { severity: 'warning' },
            annotations: {
              summary: 'Prometheus cannot scrape the kubelet of node {{ $labels.node }} ({{ $labels.job }})',
              description: 'The {{ $labels.job }} job has failed to scrape {{ $labels.instance }} for 15 minutes: the containers of that node have no CPU, memory or network series.',
              runbook: 'First: the target\'s error on Prometheus\'s /targets page: 401/403 is RBAC (nodes/metrics), an x509 error is kubelet.tls, a timeout is the node (kubectl get node {{ $labels.node }}).',
            },
          },
          ...(kubeStateMetrics ? [{
            alert: 'KubeStateMetricsDown',
            // absent(): with its pod gone there is no target at all, and no `up` to be 0.
            expr: 'absent(up{job="kube-state-metrics"} == 1)',
            for: '15m',
            labels: { severity: 'warning' },
            annotations: {
              summary: 'kube-state-metrics cannot be scraped',
              description: 'Prometheus has had no kube-state-metrics target up for 15 minutes: restarts, OOM kills, readiness and the `app` of container series are missing.',
              runbook: 'First: its pod (kubectl -n <stack namespace> get pod -l app.kubernetes.io/name=kube-state-metrics) and its log; 403s there mean its ClusterRole lacks a resource it was told to list.',
            },
          }] : []),
          {
            alert: 'PrometheusRuleEvaluationFailures',
            expr: 'increase(prometheus_rule_evaluation_failures_total[5m]) > 0',
            for: '15m',
            labels: { severity: 'warning' },
            annotations: {
              summary: 'Prometheus fails to evaluate rules',
              description: '{{ $value | humanize }} rule evaluations failed in the last 5 minutes in rule group {{ $labels.rule_group }}.',
              runbook: 'First: the rule\'s last error on Prometheus\'s /rules page, often a query that returns several series with the same labels.',
            },
          },
        ],
      },
      {
        // The stack watching itself: its own components' failures, which would otherwise go unseen.
        name: 'stack-self',
        rules: [
          {
            alert: 'StackComponentDown',
            expr: `up{app=~"${stackApps}"} == 0`,
            for: '5m',
            labels: { severity: 'critical' },
            annotations: {
              summary: '{{ $labels.app }} ({{ $labels.namespace }}/{{ $labels.pod }}) of the stack cannot be scraped',
              description: 'Prometheus has failed to scrape {{ $labels.instance }} for 5 minutes: the stack\'s own {{ $labels.app }} is down or unreachable.',
              runbook: 'First: the pod\'s state and its last restart reason (kubectl -n {{ $labels.namespace }} describe pod {{ $labels.pod }}; on compose, docker compose ps and logs {{ $labels.app }}).',
            },
          },
          ...(kubeStateMetrics ? [{
            alert: 'StackComponentNotReady',
            // Scraped but not ready (Loki while its ring is not joined, Grafana without its database): the
            // kubelet's readiness probe says so, and kube-state-metrics reports it.
            // Pods that finished (evicted, completed) keep a not-ready status until they are collected: not counted.
            expr:
              `kube_pod_container_status_ready{job="kube-state-metrics", container=~"${STACK_APPS.join('|')}"} == 0` +
              ' unless on (namespace, pod) kube_pod_status_phase{job="kube-state-metrics", phase=~"Succeeded|Failed"} == 1',
            for: '10m',
            labels: { severity: 'warning' },
            annotations: {
              summary: '{{ $labels.container }} ({{ $labels.namespace }}/{{ $labels.pod }}) of the stack is not ready',
              description: 'Its readiness probe has failed for 10 minutes: Kubernetes sends it no traffic through its Service.',
              runbook: 'First: the probe\'s failure in the pod\'s events (kubectl -n {{ $labels.namespace }} describe pod {{ $labels.pod }}), then the container\'s log.',
            },
          }] : []),
          {
            alert: 'LokiRequestErrors',
            expr:
              'sum by (namespace, app, pod, route) (rate(loki_request_duration_seconds_count{status_code=~"5.."}[5m]))' +
              ' / sum by (namespace, app, pod, route) (rate(loki_request_duration_seconds_count[5m]))' +
              ` > ${LOGS_ERROR_RATIO_THRESHOLD}`,
            for: '15m',
            labels: { severity: 'warning' },
            annotations: {
              summary: 'Loki {{ $labels.namespace }}/{{ $labels.pod }} answers {{ $labels.route }} with 5xx',
              description: '{{ $value | humanizePercentage }} of the requests to {{ $labels.route }} failed over the last 5 minutes.',
              runbook: 'First: Loki\'s log for the route, then free space on its volume and its memory against the limit.',
            },
          },
          ...logAgentAlerts('Promtail', 'promtail'),
          ...logAgentAlerts('Alloy', 'loki_write'),
          {
            alert: 'PrometheusConfigReloadFailed',
            expr: 'max_over_time(prometheus_config_last_reload_successful[5m]) == 0',
            for: '10m',
            labels: { severity: 'warning' },
            annotations: {
              summary: 'Prometheus {{ $labels.namespace }}/{{ $labels.pod }} cannot load its configuration',
              description: 'The last reload of prometheus.yml or a rule file failed; Prometheus runs on the configuration it loaded before.',
              runbook: 'First: Prometheus\'s log ("Error reloading config"), and promtool check config on the rendered prometheus.yml.',
            },
          },
          {
            alert: 'PrometheusNotificationsFailing',
            expr:
              'sum by (namespace, app, pod) (rate(prometheus_notifications_errors_total[5m]))' +
              ' / sum by (namespace, app, pod) (rate(prometheus_notifications_sent_total[5m]))' +
              ` > ${NOTIFICATION_ERROR_RATIO_THRESHOLD}`,
            for: '15m',
            labels: { severity: 'critical' },
            annotations: {
              summary: 'Prometheus {{ $labels.namespace }}/{{ $labels.pod }} fails to send alerts to Alertmanager',
              description: '{{ $value | humanizePercentage }} of the alerts Prometheus sent in the last 5 minutes met an error: alerts may not reach anyone.',
              runbook: 'First: is Alertmanager up and ready, and does Prometheus\'s /status page list it under Alertmanagers? Then Prometheus\'s log ("Error sending alerts").',
            },
          },
          // prometheus.remoteWrite: a store the dashboards may read (grafana.prometheusQuery) must not go quietly empty.
          {
            alert: 'PrometheusRemoteWriteFailing',
            expr:
              'sum by (namespace, app, pod, remote_name) (rate(prometheus_remote_storage_samples_failed_total[5m]))' +
              ' / (sum by (namespace, app, pod, remote_name) (rate(prometheus_remote_storage_samples_failed_total[5m]))' +
              ' + sum by (namespace, app, pod, remote_name) (rate(prometheus_remote_storage_samples_total[5m])))' +
              ` > ${REMOTE_WRITE_FAILURE_RATIO_THRESHOLD}`,
            for: '15m',
            labels: { severity: 'critical' },
            annotations: {
              summary: 'Prometheus {{ $labels.namespace }}/{{ $labels.pod }} fails to ship samples to {{ $labels.remote_name }}',
              description: '{{ $value | humanizePercentage }} of the samples sent to the remote-write queue {{ $labels.remote_name }} in the last 5 minutes were refused for good (a 4xx answer other than 429): they are not in the store.',
              runbook: 'First: Prometheus\'s log ("non-recoverable error") for the status the store answered; then the queue\'s url and tenant in prometheus.remoteWrite (a multi-tenant Mimir answers 401 without one).',
            },
          },
          {
            alert: 'PrometheusRemoteWriteBehind',
            expr:
              '(max_over_time(prometheus_remote_storage_highest_timestamp_in_seconds[5m])' +
              ' - ignoring (remote_name, url) group_right max_over_time(prometheus_remote_storage_queue_highest_sent_timestamp_seconds[5m]))' +
              ` > ${REMOTE_WRITE_LAG_THRESHOLD_SECONDS}`,
            for: '15m',
            labels: { severity: 'warning' },
            annotations: {
              summary: 'Prometheus {{ $labels.namespace }}/{{ $labels.pod }} is {{ $value | humanizeDuration }} behind in shipping to {{ $labels.remote_name }}',
              description: 'The newest sample the remote-write queue {{ $labels.remote_name }} has sent is {{ $value | humanizeDuration }} older than the newest Prometheus took in: the store answers with errors Prometheus retries (5xx, 429), or not at all.',
              runbook: 'First: can Prometheus reach the queue\'s url (its log: "Failed to send batch, retrying")? Then the store\'s own health and limits.',
            },
          },
          ...(alertmanager ? [{
            alert: 'PrometheusNotConnectedToAlertmanager',
            expr: 'max_over_time(prometheus_notifications_alertmanagers_discovered[5m]) < 1',
            for: '10m',
            labels: { severity: 'warning' },
            annotations: {
              summary: 'Prometheus {{ $labels.namespace }}/{{ $labels.pod }} has no Alertmanager to send alerts to',
              description: 'Prometheus has discovered no Alertmanager for 15 minutes: the alerts it fires reach no one.',
              runbook: 'First: the alerting section of prometheus.yml and Prometheus\'s /status page, then Alertmanager\'s Service and its DNS name.',
            },
          }] : []),
          {
            alert: 'PrometheusTSDBCompactionsFailing',
            expr: 'increase(prometheus_tsdb_compactions_failed_total[3h]) > 0',
            labels: { severity: 'warning' },
            annotations: {
              summary: 'Prometheus {{ $labels.namespace }}/{{ $labels.pod }} fails to compact its storage',
              description: '{{ $value | humanize }} compactions failed in the last 3 hours; the head block grows and the volume may fill.',
              runbook: 'First: free space on the Prometheus volume, then Prometheus\'s log ("compaction failed").',
            },
          },
          {
            alert: 'PrometheusStorageNearRetentionSize',
            expr: `prometheus_tsdb_storage_blocks_bytes / (prometheus_tsdb_retention_limit_bytes > 0) > ${RETENTION_SIZE_RATIO_THRESHOLD}`,
            for: '1h',
            labels: { severity: 'warning' },
            annotations: {
              summary: 'Prometheus {{ $labels.namespace }}/{{ $labels.pod }} uses {{ $value | humanizePercentage }} of its retention size',
              description: 'Blocks are deleted by size before prometheus.retentionDays is reached: less history is kept than configured.',
              runbook: 'First: the series count (prometheus_tsdb_head_series) for a cardinality jump; then raise prometheus.retentionSize with prometheus.storage.size, or accept fewer days.',
            },
          },
          {
            alert: 'AlertmanagerNotificationsFailing',
            expr: 'sum by (namespace, app, pod, integration) (rate(alertmanager_notifications_failed_total[5m])) > 0',
            for: '10m',
            labels: { severity: 'critical' },
            annotations: {
              summary: 'Alertmanager {{ $labels.namespace }}/{{ $labels.pod }} fails to notify through {{ $labels.integration }}',
              description: 'Notifications through {{ $labels.integration }} have failed for 10 minutes: people may not hear of alerts. This alert may not reach them either; it shows in Grafana\'s Alertmanager data source.',
              runbook: 'First: Alertmanager\'s log ("Notify for alerts failed"), then the receiver\'s secret (the Secret or the file under compose/alertmanager/secrets) and the network path to the service.',
            },
          },
          {
            alert: 'AlertmanagerConfigReloadFailed',
            expr: 'max_over_time(alertmanager_config_last_reload_successful[5m]) == 0',
            for: '10m',
            labels: { severity: 'warning' },
            annotations: {
              summary: 'Alertmanager {{ $labels.namespace }}/{{ $labels.pod }} cannot load its configuration',
              description: 'The last reload of alertmanager.yml failed; Alertmanager runs on the configuration it loaded before.',
              runbook: 'First: Alertmanager\'s log ("Loading configuration file failed"), and amtool check-config on the rendered alertmanager.yml.',
            },
          },
        ],
      },
      {
        name: 'http-server',
        rules: [
          {
            record: 'app:http_server_requests:rate5m',
            expr: 'sum by (namespace, app, route, status_code) (rate(http_server_request_duration_seconds_count[5m]))',
          },
          {
            alert: 'HttpServerHighErrorRatio',
            expr:
              'sum by (namespace, app) (rate(http_server_request_duration_seconds_count{status_code=~"5.."}[5m]))' +
              ' / sum by (namespace, app) (rate(http_server_request_duration_seconds_count[5m]))' +
              ` > ${APP_ERROR_RATIO_THRESHOLD}`,
            for: '10m',
            labels: { severity: 'warning' },
            annotations: {
              summary: '{{ $labels.app }} answers more than 10% of requests with 5xx',
              description: '{{ $value | humanizePercentage }} of the requests to {{ $labels.namespace }}/{{ $labels.app }} failed over the last 5 minutes.',
              runbook: 'First: the app\'s error logs in Grafana (Explore, Loki: {namespace="{{ $labels.namespace }}", app="{{ $labels.app }}"} |= "error"), then which route fails (app:http_server_requests:rate5m by route and status_code).',
            },
          },
          {
            alert: 'HttpServerHighLatency',
            expr:
              'histogram_quantile(0.99, sum by (namespace, app, le) (rate(http_server_request_duration_seconds_bucket[5m])))' +
              ` > ${APP_P99_SECONDS_THRESHOLD}`,
            for: '10m',
            labels: { severity: 'warning' },
            annotations: {
              summary: '{{ $labels.app }} p99 latency is above 1s',
              description: 'The 99th percentile of request duration of {{ $labels.namespace }}/{{ $labels.app }} is {{ $value | humanizeDuration }}.',
              runbook: 'First: which route is slow (the app dashboard\'s latency panel), then the pod\'s CPU throttling and memory against its limits.',
            },
          },
        ],
      },
      // The alert that always fires (with Alertmanager): the proof that the rest can reach anyone.
      ...(alertmanager ? [{
        name: 'watchdog',
        rules: [{
          alert: WATCHDOG_ALERT,
          expr: 'vector(1)',
          labels: { severity: 'none', ...WATCHDOG_LABEL },
          annotations: {
            summary: 'Always firing: the stack\'s rules are evaluated and their alerts reach Alertmanager',
            description: 'It notifies nobody (the stack\'s Alertmanager routes severity none only to its null receiver, which has no integration). Its absence from Alertmanager\'s page is the problem: then no alert reaches anyone.',
            runbook: 'First: if it is missing, is Prometheus loading the stack\'s rules (its /rules page) and sending to Alertmanager (its /status page)? npm run verify checks both ends.',
          },
        }],
      }] : []),
    ],
  };
}

/**
 * A log agent failing to push to Loki, and dropping lines after its retries: the same two alerts for Promtail
 * (metric prefix `promtail`) and Alloy (`loki_write`), whose Loki clients count the same way.
 */
function logAgentAlerts(agent: 'Promtail' | 'Alloy', prefix: 'promtail' | 'loki_write'): Rule[] {
  return [
    {
      alert: `${agent}NotShipping`,
      expr:
        `sum by (namespace, app, pod) (rate(${prefix}_request_duration_seconds_count{status_code!~"2.."}[5m]))` +
        ` / sum by (namespace, app, pod) (rate(${prefix}_request_duration_seconds_count[5m]))` +
        ` > ${LOGS_ERROR_RATIO_THRESHOLD}`,
      for: '15m',
      labels: { severity: 'warning' },
      annotations: {
        summary: `${agent} {{ $labels.namespace }}/{{ $labels.pod }} fails to push logs to Loki`,
        description: '{{ $value | humanizePercentage }} of its pushes to Loki failed over the last 5 minutes; it retries, then drops the lines.',
        runbook: 'First: is Loki ready, and is the push refused (4xx: limits, out-of-order, too old; 401 or 403 from a Loki of yours: loki.external.tenant) or unreachable? The agent\'s log names the status.',
      },
    },
    {
      alert: `${agent}DroppingLines`,
      expr: `sum by (namespace, app, pod, reason) (increase(${prefix}_dropped_entries_total[10m])) > 0`,
      labels: { severity: 'warning' },
      annotations: {
        summary: `${agent} {{ $labels.namespace }}/{{ $labels.pod }} dropped log lines ({{ $labels.reason }})`,
        description: '{{ $value | humanize }} lines were given up after all retries in the last 10 minutes: they are not in Loki.',
        runbook: `First: the reason label (rate limits, too old, stream limits) and Loki's limits_config; then ${agent}NotShipping.`,
      },
    },
  ];
}
