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

export function renderAlertRules(): { groups: RuleGroup[] } {
  return {
    groups: [
      {
        name: 'stack-targets',
        rules: [
          {
            alert: 'TargetDown',
            expr: 'up == 0',
            for: '5m',
            labels: { severity: 'warning' },
            annotations: {
              summary: '{{ $labels.app }} ({{ $labels.namespace }}/{{ $labels.pod }}) cannot be scraped',
              description: 'Prometheus has failed to scrape {{ $labels.instance }} for 5 minutes. Check the pod and its prometheus.io/* annotations.',
            },
          },
          {
            alert: 'PrometheusRuleEvaluationFailures',
            expr: 'increase(prometheus_rule_evaluation_failures_total[5m]) > 0',
            for: '15m',
            labels: { severity: 'warning' },
            annotations: {
              summary: 'Prometheus fails to evaluate rules',
              description: '{{ $value | humanize }} rule evaluations failed in the last 5 minutes in rule group {{ $labels.rule_group }}.',
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
            },
          },
        ],
      },
    ],
  };
}
