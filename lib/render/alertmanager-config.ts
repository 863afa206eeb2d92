/**
 * alertmanager.yml: who hears about an alert, and when. Pure: no rendering imported.
 *
 * - Every alert goes to the root receiver `null` (it notifies no one: firing alerts stay visible on
 *   Alertmanager's page and in Grafana's Alertmanager data source) and, through one route each with
 *   `continue`, to every receiver the settings turn on, for severity warning and critical.
 * - Alerts are grouped by namespace, app and alertname: one notification per broken workload and cause.
 * - A critical alert silences the warning of the same alert on the same workload (inhibit_rules).
 * - Secrets (a webhook's URL, Slack's URL, the SMTP password) are never in the file: it names files
 *   (`url_file`, `api_url_file`, `auth_password_file`) in ALERTMANAGER_SECRETS_DIR, which the renderings fill
 *   from a Kubernetes Secret or a compose secret.
 *
 * Every key is in Alertmanager 0.34's configuration reference (prometheus/alertmanager@v0.34.0:
 * docs/configuration.md); test/alertmanager-config.test.ts holds the list with its sources.
 */
import { ALERTMANAGER_SECRET_FILES, ALERTMANAGER_SECRETS_DIR } from '../components/alertmanager';
import type { AlertmanagerSettings } from '../config';

/** The severities the stack's alerts carry, most severe first. */
export const SEVERITIES = ['critical', 'warning'] as const;

/** The receivers a user can turn on, with what is not secret about them. */
export interface AlertmanagerReceivers {
  /** A generic webhook (Alertmanager's JSON, POSTed); its URL is a secret. */
  readonly webhook?: { readonly sendResolved: boolean };
  /** Slack, through an incoming webhook (a secret URL), into one channel. */
  readonly slack?: { readonly channel: string; readonly sendResolved: boolean };
  /** Email through an SMTP relay; the password, when the relay wants one, is a secret. */
  readonly email?: {
    readonly to: string;
    readonly from: string;
    /** host:port */
    readonly smarthost: string;
    /** @default none: no SMTP authentication */
    readonly authUsername?: string;
    readonly requireTls: boolean;
    readonly sendResolved: boolean;
  };
}

/** What alertmanager.yml is made from: the receivers, and the timing of notifications. */
export interface AlertmanagerConfigInput {
  readonly receivers: AlertmanagerReceivers;
  /** How long to wait for more alerts of a new group before notifying. */
  readonly groupWaitSeconds: number;
  /** How long to wait before notifying about new alerts of a group already notified. */
  readonly groupIntervalSeconds: number;
  /** How long before a still-firing group is notified again. */
  readonly repeatIntervalSeconds: number;
}

/** The label names a notification groups alerts by (the label contract's workload, and the alert). */
export const GROUP_BY = ['namespace', 'app', 'alertname'];

/** A duration as Alertmanager writes one: whole hours, minutes or seconds. */
export function duration(seconds: number): string {
  if (seconds % 3600 === 0) return `${seconds / 3600}h`;
  if (seconds % 60 === 0) return `${seconds / 60}m`;
  return `${seconds}s`;
}

const secretFile = (name: string) => `${ALERTMANAGER_SECRETS_DIR}/${name}`;

/** The renderer's input for the model's `alertmanager` settings: the receivers turned on, and the timings. */
export function alertmanagerConfigInput(a: AlertmanagerSettings): AlertmanagerConfigInput {
  const r = a.receivers;
  return {
    receivers: {
      ...(r.webhook.enabled ? { webhook: { sendResolved: r.webhook.sendResolved } } : {}),
      ...(r.slack.enabled ? { slack: { channel: r.slack.channel, sendResolved: r.slack.sendResolved } } : {}),
      ...(r.email.enabled ? {
        email: {
          to: r.email.to, from: r.email.from, smarthost: r.email.smarthost,
          ...(r.email.authUsername ? { authUsername: r.email.authUsername } : {}),
          requireTls: r.email.requireTls, sendResolved: r.email.sendResolved,
        },
      } : {}),
    },
    groupWaitSeconds: a.groupWaitSeconds,
    groupIntervalSeconds: a.groupIntervalSeconds,
    repeatIntervalSeconds: a.repeatIntervalSeconds,
  };
}

/** The receivers' secrets a configuration reads: file name in ALERTMANAGER_SECRETS_DIR → where it comes from. */
export function alertmanagerSecrets(a: AlertmanagerSettings): Array<{ file: string; secret: { name: string; key: string }; receiver: keyof typeof ALERTMANAGER_SECRET_FILES }> {
  const r = a.receivers;
  return [
    ...(r.webhook.enabled ? [{ file: ALERTMANAGER_SECRET_FILES.webhook, secret: r.webhook.urlSecret, receiver: 'webhook' as const }] : []),
    ...(r.slack.enabled ? [{ file: ALERTMANAGER_SECRET_FILES.slack, secret: r.slack.apiUrlSecret, receiver: 'slack' as const }] : []),
    ...(r.email.enabled && r.email.authUsername ? [{ file: ALERTMANAGER_SECRET_FILES.email, secret: r.email.authPasswordSecret, receiver: 'email' as const }] : []),
  ];
}

/** alertmanager.yml as an object. */
export function renderAlertmanagerConfig(input: AlertmanagerConfigInput): Record<string, unknown> {
  const r = input.receivers;
  const receivers: Array<Record<string, unknown>> = [
    // A receiver with no integration: the alert is kept (page, API, Grafana), nobody is notified.
    { name: 'null' },
  ];
  if (r.webhook) {
    receivers.push({ name: 'webhook', webhook_configs: [{ url_file: secretFile(ALERTMANAGER_SECRET_FILES.webhook), send_resolved: r.webhook.sendResolved }] });
  }
  if (r.slack) {
    receivers.push({
      name: 'slack',
      slack_configs: [{
        api_url_file: secretFile(ALERTMANAGER_SECRET_FILES.slack),
        channel: r.slack.channel,
        send_resolved: r.slack.sendResolved,
        // One line a notification: the alert, the workload, the summary.
        title: '[{{ .Status | toUpper }}] {{ .CommonLabels.alertname }} {{ .CommonLabels.namespace }}/{{ .CommonLabels.app }}',
        text: '{{ range .Alerts }}{{ .Annotations.summary }}\n{{ end }}',
      }],
    });
  }
  if (r.email) {
    receivers.push({
      name: 'email',
      email_configs: [{
        to: r.email.to,
        from: r.email.from,
        smarthost: r.email.smarthost,
        ...(r.email.authUsername ? { auth_username: r.email.authUsername, auth_password_file: secretFile(ALERTMANAGER_SECRET_FILES.email) } : {}),
        require_tls: r.email.requireTls,
        send_resolved: r.email.sendResolved,
      }],
    });
  }
  const severity = `severity=~"${SEVERITIES.join('|')}"`;
  return {
    route: {
      receiver: 'null',
      group_by: GROUP_BY,
      group_wait: duration(input.groupWaitSeconds),
      group_interval: duration(input.groupIntervalSeconds),
      repeat_interval: duration(input.repeatIntervalSeconds),
      ...(receivers.length > 1 ? { routes: receivers.slice(1).map((rc) => ({ receiver: rc.name, matchers: [severity], continue: true })) } : {}),
    },
    receivers,
    inhibit_rules: [{
      source_matchers: ['severity="critical"'],
      target_matchers: ['severity="warning"'],
      equal: GROUP_BY,
    }],
  };
}
