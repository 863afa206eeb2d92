/**
 * Promtail on one docker host: its compose service, and its promtail.yaml. Server, positions and clients are
 * the Kubernetes rendering's own (renderPromtailKubernetesConfig); only discovery differs: Docker's json-file
 * logs instead of the kubelet's /var/log/pods.
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
import { otherProjectsSelector } from './user-apps';
import { StackConfig } from '../config';
import { imageString } from '../images';
import { DOCKER_CONTAINERS_DIR } from '../image-facts';
import { PROMTAIL_CONFIG_FILE, PROMTAIL_HTTP_PORT, PROMTAIL_POSITIONS_DIR, PROMTAIL_READY_PATH, promtailFlags } from '../components/promtail';
import { LokiClientAuth, NO_LOKI_AUTH } from '../components/loki';
import { composeLokiPassword } from './loki';
import { promtailPipelineStages, renderPromtailKubernetesConfig } from '../render/promtail-config';
import { ComposeServiceEntry } from './compose-types';
import { COMPOSE_FILES } from './config-files';
import { DOCKER_TRAILING_NEWLINE, dockerContainersMount } from './docker-logs';
import { COMPOSE_NODE_LABEL, composeContainerName, composeServiceName } from './names';
import { bashHttpCheck, COMPOSE_PROJECT_LABEL, COMPOSE_SERVICE_LABEL, configMount, hardenedService, healthcheck, resourceLimits } from './service-defaults';

/** Name of Promtail's scrape job on compose. */
export const PROMTAIL_COMPOSE_JOB = 'docker-containers';

/**
 * The pipeline for one json-file log line, `{"log":…,"stream":…,"attrs":{…},"time":…}`:
 * 1. `json`: the container name (`attrs.tag`), compose service and project (`attrs."com.docker.compose.*"`);
 * 2. `docker`: the line becomes `log`, its timestamp `time`, and `stream` a label (as `cri` does on Kubernetes);
 *    then `replace` drops the newline Docker keeps at the end of `log` (a CRI log record carries none, so
 *    Kubernetes needs no such stage; without it every compose line is stored in Loki with a trailing "\n");
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
        selector: otherProjectsSelector(c),
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
export function renderPromtailComposeConfig(c: StackConfig, lokiPushUrl: string, auth: LokiClientAuth = NO_LOKI_AUTH): Record<string, unknown> {
  // Everything of the Kubernetes config but its discovery, which is replaced below.
  const shape: Record<string, unknown> = { ...renderPromtailKubernetesConfig(lokiPushUrl, c.logAgent.push, auth) };
  delete shape.scrape_configs;
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

/** The Promtail service: tails Docker's json-file logs read-only and pushes them to Loki. */
export function composePromtailService(c: StackConfig, lokiService?: string): ComposeServiceEntry {
  const name = composeServiceName(c, 'promtail');
  const volume = 'promtail-positions';
  const password = composeLokiPassword(c);
  return {
    name,
    namedVolumes: [volume],
    ...password.entry,
    comment: [
      'Promtail: reads the json-file logs in /var/lib/docker/containers, mounted read-only; NOT the Docker socket.',
      'The socket, even mounted :ro, is the whole Engine API, i.e. root on the host (start a privileged container,',
      'mount /). The files carry the label contract instead: every service sets `logging` (json-file, tag',
      '{{.Name}}, labels com.docker.compose.service/project), so each log line holds its container name, compose',
      'service and project in `attrs`, and promtail/promtail.yaml turns them into namespace/pod/container/app/node.',
      'Relaxed: uid 0, because Docker writes those files root:root 0640 in root-owned 0710 directories; as their',
      'owner, root reads them with no capability, so cap_drop ALL and the read-only root stay.',
      'Needs a Linux host and the json-file log driver for the services below. Rootless Docker or another data-root:',
      'set DOCKER_CONTAINERS_DIR in compose/.env to the host\'s <data-root>/containers (see .env.example).',
      'The image (Ubuntu) has bash but no curl or wget: the healthcheck speaks HTTP over bash\'s /dev/tcp to /ready',
      '(200 once a file is tailed; Promtail has no -health flag).',
    ].join('\n'),
    service: {
      image: imageString(c.logAgent.promtail.image),
      container_name: composeContainerName(c, name),
      command: promtailFlags(),
      user: '0:0',
      volumes: [
        configMount(COMPOSE_FILES.promtailConfig, PROMTAIL_CONFIG_FILE),
        dockerContainersMount(),
        `${volume}:${PROMTAIL_POSITIONS_DIR}`,
      ],
      tmpfs: ['/tmp:size=16m'],
      // A Loki of the user's behind basic auth: its password, read-only (password_file).
      ...password.service,
      // The stack's Loki first; a Loki of the user's (loki.external) is not a service here.
      ...(lokiService ? { depends_on: { [lokiService]: { condition: 'service_healthy' as const } } } : {}),
      healthcheck: healthcheck(bashHttpCheck(PROMTAIL_HTTP_PORT, PROMTAIL_READY_PATH), { startPeriodSeconds: 30 }),
      ...hardenedService(),
      deploy: resourceLimits(c.logAgent.promtail.resources),
    },
  };
}
