/**
 * What Prometheus scrapes on a single docker host: every service of the stack that serves /metrics, at its
 * compose service name (Docker's embedded DNS), with the label contract's values for its container as static
 * labels. Pure: no cdk8s here (renderComposePrometheusConfig in lib/render/prometheus-config.ts uses it).
 */
import { StackConfig } from '../config';
import { METRICS_PATH } from '../image-facts';
import { ComposeComponent, composeContractLabels, composeServiceName, ContractLabels } from './names';
import { LOKI_HTTP_PORT, shipsLogs } from '../components/loki';
import { PROMTAIL_HTTP_PORT } from '../components/promtail';
import { ALLOY_HTTP_PORT } from '../components/alloy';
import { PROMETHEUS_PORT } from '../components/prometheus';
import { GRAFANA_PORT } from '../components/grafana';
import { ALERTMANAGER_PORT } from '../components/alertmanager';

export interface ComposeScrapeTarget {
  /** Which component. */
  readonly component: ComposeComponent;
  /** Compose service name: the job name and the target's host name. */
  readonly service: string;
  /** Port inside the container. */
  readonly port: number;
  /** Path of the metrics endpoint. */
  readonly metricsPath: string;
  /** The label contract's values for the service's container. */
  readonly labels: ContractLabels;
}

/** Whether Promtail runs: it is the log agent (`logAgent.kind`), and it ships logs to a Loki (the stack's or loki.external). */
export function composeRunsPromtail(c: StackConfig): boolean {
  return shipsLogs(c.loki) && c.logAgent.kind === 'promtail';
}

/** Whether Alloy runs: the same rule as composeRunsPromtail, for `logAgent.kind: alloy`. */
export function composeRunsAlloy(c: StackConfig): boolean {
  return shipsLogs(c.loki) && c.logAgent.kind === 'alloy';
}

/** Every scrape target of the compose stack, in a stable order. */
export function composeScrapeTargets(c: StackConfig): ComposeScrapeTarget[] {
  const entries: Array<[ComposeComponent, number, string, boolean]> = [
    ['prometheus', PROMETHEUS_PORT, METRICS_PATH, c.prometheus.enabled],
    ['app', c.app.port, c.app.metricsPath, c.app.enabled],
    ['loki', LOKI_HTTP_PORT, METRICS_PATH, c.loki.enabled],
    ['promtail', PROMTAIL_HTTP_PORT, METRICS_PATH, composeRunsPromtail(c)],
    ['alloy', ALLOY_HTTP_PORT, METRICS_PATH, composeRunsAlloy(c)],
    ['alertmanager', ALERTMANAGER_PORT, METRICS_PATH, c.alertmanager.enabled],
    ['grafana', GRAFANA_PORT, METRICS_PATH, c.grafana.enabled],
  ];
  return entries
    .filter(([, , , enabled]) => enabled)
    .map(([component, port, metricsPath]) => {
      const service = composeServiceName(c, component);
      return { component, service, port, metricsPath, labels: composeContractLabels(c, service) };
    });
}
