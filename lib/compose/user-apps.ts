/**
 * Your own apps on the same docker host (`compose.apps`), each in its own compose project: what the stack
 * needs to watch them as it watches its own services. Prometheus scrapes each at its container's name on the
 * stack's frontend network (your compose file joins it: compose/README.md), with the label contract's values
 * for its container, the same ones the log agent gives its lines (namespace = its project, app = its service,
 * pod = container = its container name, node = COMPOSE_NODE_LABEL); and the log agent and cAdvisor keep the
 * lines and series of its project, as they keep the stack's.
 */
import { StackConfig } from '../config';
import { ScrapeConfig } from '../render/prometheus-config';
import { COMPOSE_NODE_LABEL, ContractLabels } from './names';

type UserApp = StackConfig['compose']['apps'][number];

/** Its container's name: as set, else compose's name for the first replica, <project>-<service>-1. */
export function userAppContainer(app: UserApp): string {
  return app.container ?? `${app.project}-${app.name}-1`;
}

/** The label contract's values for a user's app. */
export function userAppContractLabels(app: UserApp): ContractLabels {
  const container = userAppContainer(app);
  return { namespace: app.project, pod: container, container, app: app.name, node: COMPOSE_NODE_LABEL };
}

/** One job per app, named <project>/<service> (a stack job's name has no "/"). */
export function composeUserAppScrapeConfigs(c: StackConfig): ScrapeConfig[] {
  return c.compose.apps.map((a) => ({
    job_name: `${a.project}/${a.name}`,
    metrics_path: a.metricsPath,
    // By its container's name, unique on the host (Docker resolves it on every network the container joins),
    // not its service name, which apps of two projects may share.
    static_configs: [{ targets: [`${userAppContainer(a)}:${a.port}`], labels: { ...userAppContractLabels(a) } }],
  }));
}

/** The compose projects whose logs and container series the stack keeps: its own, then its users' apps'. */
export function watchedProjects(c: StackConfig): string[] {
  return [...new Set([c.compose.projectName, ...c.compose.apps.map((a) => a.project)])];
}

/** A LogQL selector matching the lines of every other project (project names are [a-z0-9_-]: no regex quoting needed). */
export function otherProjectsSelector(c: StackConfig): string {
  const projects = watchedProjects(c);
  return projects.length === 1 ? `{namespace!="${projects[0]}"}` : `{namespace!~"${projects.join('|')}"}`;
}
