/**
 * What Prometheus scrapes on a single docker host: every service of the stack that serves /metrics, at its
 * compose service name (Docker's embedded DNS), with the label contract's values for its container as static
 * labels. Pure: no cdk8s here (renderComposePrometheusConfig in lib/render/prometheus-config.ts uses it).
 */
import { StackConfig } from '../config';
import { ALLOY_HTTP_PORT } from '../render/alloy-config';
import { LOKI_HTTP_PORT } from '../render/loki-config';
import { PROMTAIL_HTTP_PORT } from '../render/promtail-config';
import { ComposeComponent, composeContractLabels, composeServiceName, ContractLabels } from './names';

/** Prometheus's HTTP port in its container (the same as on Kubernetes; a test compares them). */
export const COMPOSE_PROMETHEUS_PORT = 9090;
/** Grafana's HTTP port in its container (the image's default, `EXPOSE 3000`). */
export const COMPOSE_GRAFANA_PORT = 3000;

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

/** Whether Promtail runs: it is the log agent (`logAgent.kind`), and it ships logs to Loki, so only with Loki. */
export function composeRunsPromtail(c: StackConfig): boolean {
  return c.loki.enabled && c.logAgent.kind === 'promtail';
}

/** Whether Alloy runs: the same rule as composeRunsPromtail, for `logAgent.kind: alloy`. */
export function composeRunsAlloy(c: StackConfig): boolean {
  return c.loki.enabled && c.logAgent.kind === 'alloy';
}

/** Every scrape target of the compose stack, in a stable order. */
export function composeScrapeTargets(c: StackConfig): ComposeScrapeTarget[] {
  const entries: Array<[ComposeComponent, number, string, boolean]> = [
    ['prometheus', COMPOSE_PROMETHEUS_PORT, '/metrics', true],
    ['app', c.app.port, c.app.metricsPath, c.app.enabled],
    ['loki', LOKI_HTTP_PORT, '/metrics', c.loki.enabled],
    ['promtail', PROMTAIL_HTTP_PORT, '/metrics', composeRunsPromtail(c)],
    ['alloy', ALLOY_HTTP_PORT, '/metrics', composeRunsAlloy(c)],
    ['grafana', COMPOSE_GRAFANA_PORT, '/metrics', c.grafana.enabled],
  ];
  return entries
    .filter(([, , , enabled]) => enabled)
    .map(([component, port, metricsPath]) => {
      const service = composeServiceName(c, component);
      return { component, service, port, metricsPath, labels: composeContractLabels(c, service) };
    });
}
