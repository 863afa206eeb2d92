/**
 * Where each metric the stack's alerts and dashboards query comes from: read in the component's source at the
 * pinned version (the tag named), or the demo app. test/prometheus-config.test.ts (alerts) and
 * test/dashboards.test.ts (Stack health) fail on a metric not listed here.
 */
export const METRIC_SOURCES: Record<string, string> = {
  up: 'Prometheus: every scrape (docs: jobs and instances)',
  prometheus_rule_evaluation_failures_total: 'prometheus/prometheus@v3.14.0 rules/group.go',
  prometheus_config_last_reload_successful: 'prometheus/prometheus@v3.14.0 cmd/prometheus/main.go:135',
  prometheus_notifications_errors_total: 'prometheus/prometheus@v3.14.0 notifier/metric.go:60 (namespace prometheus, subsystem notifications: notifier/manager.go:44-45)',
  prometheus_notifications_sent_total: 'prometheus/prometheus@v3.14.0 notifier/metric.go:68',
  prometheus_notifications_alertmanagers_discovered: 'prometheus/prometheus@v3.14.0 notifier/metric.go:92',
  prometheus_tsdb_compactions_failed_total: 'prometheus/prometheus@v3.14.0 tsdb/db.go:435',
  prometheus_tsdb_storage_blocks_bytes: 'prometheus/prometheus@v3.14.0 tsdb/db.go:465',
  prometheus_tsdb_retention_limit_bytes: 'prometheus/prometheus@v3.14.0 tsdb/db.go:469 (0: no size limit)',
  loki_request_duration_seconds_count: 'grafana/loki@v3.7.6 vendor/github.com/grafana/dskit/server/metrics.go:58 (namespace loki: pkg/loki/loki.go:145; labels method, route, status_code, ws)',
  promtail_request_duration_seconds_count: 'grafana/loki@v3.6.11 clients/pkg/promtail/client/client.go:108 (label status_code: the HTTP status, strconv.Itoa, client.go:397)',
  promtail_dropped_entries_total: 'grafana/loki@v3.6.11 clients/pkg/promtail/client/client.go:93 (labels host, tenant, reason)',
  loki_write_request_duration_seconds_count: 'grafana/alloy@v1.18.1 internal/component/common/loki/client/metrics.go:79 (labels status_code, host, tenant)',
  loki_write_dropped_entries_total: 'grafana/alloy@v1.18.1 internal/component/common/loki/client/metrics.go:53 (labels host, tenant, reason)',
  alertmanager_notifications_failed_total: 'prometheus/alertmanager@v0.34.0 notify/metrics.go:50 (labels integration, reason)',
  alertmanager_config_last_reload_successful: 'prometheus/alertmanager@v0.34.0 config/coordinator.go:63',
  http_server_request_duration_seconds_count: 'the demo app (app/src/instrumentation.ts), OpenTelemetry\'s HTTP server semantic conventions',
  http_server_request_duration_seconds_bucket: 'the demo app (app/src/instrumentation.ts)',
  process_cpu_seconds_total: 'the demo app: prom-client\'s default metrics (app/src/telemetry.ts)',
  process_resident_memory_bytes: 'the demo app: prom-client\'s default metrics (app/src/telemetry.ts)',
  nodejs_eventloop_lag_p99_seconds: 'the demo app: prom-client\'s default metrics (app/src/telemetry.ts)',
  prometheus_tsdb_head_series: 'prometheus/prometheus@v3.14.0 tsdb/head.go:463',
  prometheus_tsdb_head_samples_appended_total: 'prometheus/prometheus@v3.14.0 tsdb/head.go:527',
  loki_distributor_lines_received_total: 'grafana/loki@v3.7.6 pkg/loghttp/push/push.go:57 (namespace loki; labels tenant, is_internal_stream, policy, format)',
  loki_distributor_bytes_received_total: 'grafana/loki@v3.7.6 pkg/loghttp/push/push.go:46 (uncompressed, structured metadata included; labels tenant, retention_hours, is_internal_stream, policy, format)',
  promtail_sent_entries_total: 'grafana/loki@v3.6.11 clients/pkg/promtail/client/client.go:88 (label host)',
  loki_write_sent_entries_total: 'grafana/alloy@v1.18.1 internal/component/common/loki/client/metrics.go:49 (labels host, tenant)',
  alertmanager_notifications_total: 'prometheus/alertmanager@v0.34.0 notify/metrics.go:45 (label integration, every integration initialized at 0: metrics.go:111-139)',
  kube_pod_container_status_ready: 'kubernetes/kube-state-metrics@v2.20.0 docs/metrics/workload/pod-metrics.md:29 (STABLE; labels container, pod, namespace, uid)',
  kube_pod_labels: 'kubernetes/kube-state-metrics@v2.20.0 docs/metrics/workload/pod-metrics.md:13 (label_<name> per --metric-labels-allowlist)',
  kube_pod_info: 'kubernetes/kube-state-metrics@v2.20.0 docs/metrics/workload/pod-metrics.md:8 (labels node, created_by_kind, created_by_name, ...)',
  kube_pod_container_status_waiting_reason: 'kubernetes/kube-state-metrics@v2.20.0 docs/metrics/workload/pod-metrics.md:21 (label reason)',
  kube_pod_container_status_last_terminated_reason: 'kubernetes/kube-state-metrics@v2.20.0 docs/metrics/workload/pod-metrics.md:26 (label reason; EXPERIMENTAL)',
  kube_pod_container_status_restarts_total: 'kubernetes/kube-state-metrics@v2.20.0 docs/metrics/workload/pod-metrics.md:33 (STABLE)',
  kube_pod_container_resource_limits: 'kubernetes/kube-state-metrics@v2.20.0 docs/metrics/workload/pod-metrics.md:35 (labels resource, unit, container, pod, namespace, node; STABLE)',
  kube_pod_container_resource_requests: 'kubernetes/kube-state-metrics@v2.20.0 docs/metrics/workload/pod-metrics.md:34 (as limits; STABLE)',
  container_memory_working_set_bytes: 'google/cadvisor@v0.60.5 lib/metrics/prometheus.go, served by the kubelet at /metrics/cadvisor (labels id, name, image, pod, namespace, container)',
  container_cpu_usage_seconds_total: 'google/cadvisor@v0.60.5 lib/metrics/prometheus.go (label cpu="total" from the kubelet)',
  container_cpu_cfs_periods_total: 'google/cadvisor@v0.60.5 lib/metrics/prometheus.go:210-213 (only for containers with a CPU limit)',
  container_cpu_cfs_throttled_periods_total: 'google/cadvisor@v0.60.5 lib/metrics/prometheus.go (as cfs_periods_total)',
  container_network_receive_bytes_total: 'google/cadvisor@v0.60.5 lib/metrics/prometheus.go (label interface; on containerd carried by the pause container, container="")',
  container_network_transmit_bytes_total: 'google/cadvisor@v0.60.5 lib/metrics/prometheus.go (as receive)',
  kube_pod_status_phase: 'kubernetes/kube-state-metrics@v2.20.0 docs/metrics/workload/pod-metrics.md:15 (label phase; STABLE)',
  'namespace_pod:app:info': 'the stack\'s own recording rule (lib/render/alert-rules.ts kubernetesPodAppRules)',
  alertmanager_alerts: 'prometheus/alertmanager@v0.34.0 dispatch/metric.go:66 (label state: active, suppressed, unprocessed)',
};

/** The metric names in a PromQL expression: identifiers outside label matchers and ranges, less PromQL's own words. */
export function metricNames(expr: string): string[] {
  const promqlWords = /^(sum|count|max|min|avg|by|without|on|ignoring|group_left|group_right|or|and|unless|rate|irate|increase|max_over_time|histogram_quantile|vector|label_replace|absent|predict_linear|topk)$/;
  const stripped = expr.replace(/\{[^}]*\}/g, '').replace(/\[[^\]]*\]/g, '').replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, '').replace(/"[^"]*"/g, '');
  return [...new Set([...stripped.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*/g)].map((m) => m[0]).filter((n) => !promqlWords.test(n) && !/^[0-9]/.test(n)))];
}
