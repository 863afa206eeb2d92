/**
 * The compose stack's networks: who can reach whom on one host. Docker puts every service of a project on one
 * `default` network unless told otherwise; here:
 * - `frontend`: the services whose ports are published on 127.0.0.1 (Grafana, Prometheus, the app) and the
 *   traffic generator that calls the app. It has a route out (Prometheus's remote_write).
 * - `backend`, `internal: true`: no published port and no route out. What nobody opens from the host lives only
 *   here (Loki, the log agent, node-exporter, cAdvisor, Alertmanager); Prometheus and Grafana join it to scrape
 *   and to read them. The host itself can still reach these containers' addresses (Docker 25 restored that on
 *   internal networks, moby/moby#47356): they are closed to the network, not to the host's own processes.
 * - `egress`: a route out and no published port, for Alertmanager when a receiver is on (a webhook, Slack,
 *   an SMTP relay are outside the host), and for the log agent when it ships to a Loki of the user's
 *   (loki.external): only then, and only they.
 */
import { StackConfig } from '../config';
import { ComposeComponent } from './names';

export const FRONTEND_NETWORK = 'frontend';
export const BACKEND_NETWORK = 'backend';
export const EGRESS_NETWORK = 'egress';

/** Whether Alertmanager notifies anyone outside the host: a receiver is on. */
function alertmanagerNotifies(c: StackConfig): boolean {
  const r = c.alertmanager.receivers;
  return r.webhook.enabled || r.slack.enabled || r.email.enabled;
}

/** The networks a component's service joins. */
export function componentNetworks(c: StackConfig, component: ComposeComponent): string[] {
  switch (component) {
    case 'prometheus':
    case 'grafana':
      return [FRONTEND_NETWORK, BACKEND_NETWORK];
    case 'app':
    case 'traffic':
      return [FRONTEND_NETWORK];
    case 'alertmanager':
      return alertmanagerNotifies(c) ? [BACKEND_NETWORK, EGRESS_NETWORK] : [BACKEND_NETWORK];
    case 'promtail':
    case 'alloy':
      // A Loki of the user's (loki.external) is outside the project's networks.
      return c.loki.enabled ? [BACKEND_NETWORK] : [BACKEND_NETWORK, EGRESS_NETWORK];
    default:
      return [BACKEND_NETWORK];
  }
}

/** The top-level `networks:` of the compose file: those some service joins. */
export function composeNetworks(joined: ReadonlyArray<readonly string[]>): Record<string, { internal?: true }> {
  const used = new Set(joined.flat());
  const all: Array<[string, { internal?: true }]> = [[FRONTEND_NETWORK, {}], [BACKEND_NETWORK, { internal: true }], [EGRESS_NETWORK, {}]];
  return Object.fromEntries(all.filter(([name]) => used.has(name)));
}
