/**
 * Names and labels on a single docker host: what each compose service is called, what its container is
 * called, and the label contract's values for it. Prometheus's static targets (renderComposePrometheusConfig)
 * and Promtail's log pipeline (renderPromtailComposeConfig) both take their values from here, so a
 * container's series and its log streams carry the same labels by construction.
 *
 * | label       | value on compose                                   | where Promtail gets it                       |
 * |-------------|----------------------------------------------------|----------------------------------------------|
 * | `namespace` | the compose project (`compose.projectName`)        | the `com.docker.compose.project` label       |
 * | `app`       | the compose service name                           | the `com.docker.compose.service` label       |
 * | `container` | the container name (`<project>-<service>`)         | the json-file log tag `{{.Name}}`            |
 * | `pod`       | the container name (compose has no pods)           | the same tag                                 |
 * | `node`      | COMPOSE_NODE_LABEL, a fixed name for the one host  | a static label of Promtail's scrape config   |
 */
import { COMPOSE_STACK_SERVICE_NAMES, StackConfig } from '../config';
import { CONTRACT_LABELS } from '../render/relabel';

/** Value of the `node` label on a single docker host (compose has no node names; containers share one host). */
export const COMPOSE_NODE_LABEL = 'docker-host';

/** The compose services the stack may run, by component: those named as the component, the app and its traffic. */
export type ComposeComponent = (typeof COMPOSE_STACK_SERVICE_NAMES)[number] | 'app' | 'traffic';

/** A contract label set: exactly the names in CONTRACT_LABELS. */
export type ContractLabels = Record<(typeof CONTRACT_LABELS)[number], string>;

/**
 * Name of a component's compose service. The infrastructure keeps the names it has on Kubernetes; the demo
 * app is named after `app.name`, as its Deployment is, so its `app` label has the same value on both.
 */
export function composeServiceName(c: StackConfig, component: ComposeComponent): string {
  switch (component) {
    case 'app':
      return c.app.name;
    case 'traffic':
      return `${c.app.name}-traffic`;
    default:
      return component;
  }
}

/**
 * Name of a service's container, set explicitly (`container_name`) so that the labels Prometheus's static
 * config gives a container are known when the config is rendered: `<project>-<service>`.
 */
export function composeContainerName(c: StackConfig, service: string): string {
  return `${c.compose.projectName}-${service}`;
}

/** The label contract's values for a compose service's one container. */
export function composeContractLabels(c: StackConfig, service: string): ContractLabels {
  const container = composeContainerName(c, service);
  return {
    namespace: c.compose.projectName,
    pod: container,
    container,
    app: service,
    node: COMPOSE_NODE_LABEL,
  };
}
