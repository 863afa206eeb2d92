/**
 * promtail.yaml for docker compose on a single host. Server, positions and clients are the Kubernetes
 * rendering's own (renderPromtailKubernetesConfig); only discovery differs: Docker's json-file logs instead
 * of the kubelet's /var/log/pods.
 *
 * Discovery: the files, not the Docker socket.
 * - `docker_sd_configs` needs /var/run/docker.sock in the container. Even mounted `:ro`, the socket is the
 *   full Engine API (`:ro` only stops replacing the socket file): whoever owns Promtail can start a
 *   privileged container with the host's / mounted, i.e. is root on the host.
 * - The files under /var/lib/docker/containers, mounted read-only, give Promtail nothing but the logs. Their
 *   names hold only the container ID, but the json-file driver writes the container's name and its compose
 *   labels into every line's `attrs` when the service asks for it (see composeLogging), and the pipeline
 *   below turns those into the label contract's labels.
 * So the files keep the labels and do not hand out the Docker engine.
 */
import { StackConfig } from '../config';
import { promtailPipelineStages, renderPromtailKubernetesConfig } from '../render/promtail-config';
import { COMPOSE_NODE_LABEL } from './names';
import { COMPOSE_PROJECT_LABEL, COMPOSE_SERVICE_LABEL } from './service-defaults';

/** Where Docker keeps each container's json-file logs (`<id>/<id>-json.log`); the agents read them at this path. */
export const DOCKER_CONTAINERS_DIR = '/var/lib/docker/containers';
/**
 * The compose variable naming the host's side of that mount: rootless Docker keeps its containers in
 * `$HOME/.local/share/docker/containers`, and a custom `data-root` in `<data-root>/containers`.
 */
export const DOCKER_CONTAINERS_DIR_VARIABLE = 'DOCKER_CONTAINERS_DIR';

/**
 * The log agents' read-only mount of Docker's container logs: the host directory from DOCKER_CONTAINERS_DIR
 * (default: Docker's own /var/lib/docker/containers), always at DOCKER_CONTAINERS_DIR inside.
 */
export function dockerContainersMount(): string {
  return `\${${DOCKER_CONTAINERS_DIR_VARIABLE}:-${DOCKER_CONTAINERS_DIR}}:${DOCKER_CONTAINERS_DIR}:ro`;
}
/**
 * The newline (CRLF too) at the end of a json-file `log` field, as a capture group: the `replace` stage of
 * either agent replaces it with nothing (an empty `replace` removes the captured text).
 */
export const DOCKER_TRAILING_NEWLINE = '(\\r?\\n)$';
/** Name of Promtail's scrape job on compose. */
export const PROMTAIL_COMPOSE_JOB = 'docker-containers';

/**
 * The pipeline for one json-file log line, `{"log":…,"stream":…,"attrs":{…},"time":…}`:
 * 1. `json`: the container name (`attrs.tag`), compose service and project (`attrs."com.docker.compose.*"`);
 * 2. `docker`: the line becomes `log`, its timestamp `time`, and `stream` a label (as `cri` does on Kubernetes);
 *    then `replace` drops the newline Docker keeps at the end of `log` (the `cri` stage strips it on Kubernetes,
 *    `docker` does not: without this every line is stored in Loki with a trailing "\n");
 * 3. `labels`: the label contract: namespace = project, app = service, container = pod = container name;
 * 4. `match`/drop: lines of containers outside this compose project (other containers on the host, or
 *    containers started without the logging options, whose lines carry no project);
 * 5. the Kubernetes pipeline's own tail: `stream` as structured metadata, `filename` and `stream` dropped
 *    as labels, so a stream's labels are exactly the contract's on both renderings.
 */
export function promtailComposePipelineStages(c: StackConfig): Array<Record<string, unknown>> {
  const shared = promtailPipelineStages().filter((stage) => !('cri' in stage));
  return [
    {
      json: {
        expressions: {
          container: 'attrs.tag',
          app: `attrs."${COMPOSE_SERVICE_LABEL}"`,
          namespace: `attrs."${COMPOSE_PROJECT_LABEL}"`,
        },
      },
    },
    { docker: {} },
    { replace: { expression: DOCKER_TRAILING_NEWLINE, replace: '' } },
    { labels: { namespace: null, app: null, container: null, pod: 'container' } },
    {
      match: {
        selector: `{namespace!="${c.compose.projectName}"}`,
        action: 'drop',
        drop_counter_reason: 'not_in_compose_project',
      },
    },
    ...shared,
  ];
}

/**
 * promtail.yaml for compose. `lokiPushUrl` is the full push URL, e.g. http://loki:3100/loki/api/v1/push.
 * /ready answers 200 once a file is tailed: Promtail's own container writes one, so a /ready that stays 500
 * means the log directory is not mounted or not readable, which is what the healthcheck should show.
 */
export function renderPromtailComposeConfig(c: StackConfig, lokiPushUrl: string): Record<string, unknown> {
  const { scrape_configs: _kubernetesDiscovery, ...shape } = renderPromtailKubernetesConfig(c, lokiPushUrl);
  void _kubernetesDiscovery;
  return {
    ...shape,
    scrape_configs: [
      {
        job_name: PROMTAIL_COMPOSE_JOB,
        pipeline_stages: promtailComposePipelineStages(c),
        static_configs: [{
          // Promtail ignores targets for files; the key is required by the static_configs format.
          targets: ['localhost'],
          labels: {
            __path__: `${DOCKER_CONTAINERS_DIR}/*/*-json.log`,
            node: COMPOSE_NODE_LABEL,
          },
        }],
      },
    ],
  };
}
