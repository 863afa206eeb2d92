/**
 * Grafana Alloy on one docker host: its compose service, and its config.alloy: Grafana Alloy doing what Promtail does there
 * (lib/compose/promtail-compose.ts), the same way: Docker's json-file logs read from the files, not through
 * the Docker socket (the socket is the whole Engine API, i.e. root on the host), labelled from the `attrs`
 * every service writes into its lines (composeLogging), with the Kubernetes rendering's tail stages and writer.
 */
import { otherProjectsSelector } from './user-apps';
import { StackConfig } from '../config';
import { imageString } from '../images';
import { DOCKER_CONTAINERS_DIR } from '../image-facts';
import { ALLOY_CONFIG_DIR, ALLOY_CONFIG_FILE_NAME, ALLOY_HTTP_PORT, ALLOY_READY_PATH, ALLOY_STORAGE_PATH, alloyRunArgs } from '../components/alloy';
import { LokiClientAuth, NO_LOKI_AUTH } from '../components/loki';
import { composeLokiPassword } from './loki';
import { ALLOY_LOGGING, alloyContractTailStages, alloyHeader, alloyLokiWrite, alloyPushAttributes } from '../render/alloy-config';
import { AlloyBlock, expression, renderAlloy } from '../render/alloy-syntax';
import { ComposeServiceEntry } from './compose-types';
import { COMPOSE_FILES } from './config-files';
import { DOCKER_TRAILING_NEWLINE, dockerContainersMount } from './docker-logs';
import { COMPOSE_NODE_LABEL, composeContainerName, composeServiceName } from './names';
import { bashHttpCheck, COMPOSE_PROJECT_LABEL, COMPOSE_SERVICE_LABEL, configMount, hardenedService, healthcheck, resourceLimits } from './service-defaults';

/**
 * The pipeline for one json-file line, `{"log":…,"stream":…,"attrs":{…},"time":…}`, stage for stage the one
 * Promtail runs on compose (promtailComposePipelineStages):
 * 1. `stage.json`: the container name (`attrs.tag`), compose service and project;
 * 2. `stage.docker`: the line becomes `log`, its timestamp `time`, and `stream` a label; `stage.replace` drops
 *    the newline Docker keeps at the end of `log`;
 * 3. `stage.labels`: the label contract: namespace = project, app = service, container = pod = container name;
 * 4. `stage.match` with action "drop": lines of containers outside this compose project;
 * 5. the shared tail: `stream` as structured metadata, `filename` and `stream` dropped as labels.
 */
export function alloyComposeStages(c: StackConfig): AlloyBlock[] {
  return [
    {
      name: 'stage.json',
      attributes: [['expressions', {
        container: 'attrs.tag',
        app: `attrs."${COMPOSE_SERVICE_LABEL}"`,
        namespace: `attrs."${COMPOSE_PROJECT_LABEL}"`,
      }]],
    },
    { name: 'stage.docker' },
    { name: 'stage.replace', attributes: [['expression', DOCKER_TRAILING_NEWLINE], ['replace', '']] },
    { name: 'stage.labels', attributes: [['values', { namespace: '', app: '', container: '', pod: 'container' }]] },
    {
      name: 'stage.match',
      attributes: [
        ['selector', otherProjectsSelector(c)],
        ['action', 'drop'],
        ['drop_counter_reason', 'not_in_compose_project'],
      ],
    },
    ...alloyContractTailStages(),
  ];
}

/** config.alloy for compose. `lokiPushUrl` is the full push URL, e.g. http://loki:3100/loki/api/v1/push. */
export function renderAlloyComposeConfig(c: StackConfig, lokiPushUrl: string, auth: LokiClientAuth = NO_LOKI_AUTH): string {
  const blocks: AlloyBlock[] = [
    ALLOY_LOGGING,
    {
      name: 'loki.source.file',
      label: 'docker',
      attributes: [
        // One target: the glob of every container's json-file log (file_match expands it as containers
        // come and go), with the contract's one static label.
        ['targets', [{ __path__: `${DOCKER_CONTAINERS_DIR}/*/*-json.log`, node: COMPOSE_NODE_LABEL }]],
        ['forward_to', [expression('loki.process.docker.receiver')]],
      ],
      blocks: [{ name: 'file_match', attributes: [['enabled', true]] }],
    },
    {
      name: 'loki.process',
      label: 'docker',
      attributes: [['forward_to', [expression('loki.write.default.receiver')]]],
      blocks: alloyComposeStages(c),
    },
    alloyLokiWrite(lokiPushUrl, alloyPushAttributes(c.logAgent.push), auth),
  ];
  return renderAlloy(blocks, alloyHeader('lib/compose/alloy.ts (renderAlloyComposeConfig)'));
}

/** The Alloy service (`logAgent.kind: alloy`): tails Docker's json-file logs read-only and pushes them to Loki. */
export function composeAlloyService(c: StackConfig, lokiService?: string): ComposeServiceEntry {
  const name = composeServiceName(c, 'alloy');
  // Not the earlier `alloy-data`: that volume was first mounted over the image's /var/lib/alloy/data, so Docker
  // gave it 473:473 0770, which uid 0 without capabilities cannot enter; a reused one would stop Alloy again.
  const volume = 'alloy-storage';
  const password = composeLokiPassword(c);
  return {
    name,
    namedVolumes: [volume],
    ...password.entry,
    comment: [
      'Grafana Alloy: reads the json-file logs in Docker\'s containers directory, mounted read-only; NOT the Docker socket',
      '(the whole Engine API, i.e. root on the host). Every service sets `logging` (json-file, tag {{.Name}}, labels',
      'com.docker.compose.service/project), and alloy/config.alloy turns those `attrs` into namespace/pod/container/app/node.',
      'Relaxed: uid 0, because Docker writes those files root:root 0640 in root-owned 0710 directories; as their',
      'owner, root reads them with no capability, so cap_drop ALL and the read-only root stay.',
      'Rootless Docker or another data-root: set DOCKER_CONTAINERS_DIR in compose/.env (see .env.example).',
      'Positions live in the alloy-storage volume at /run/alloy (--storage.path; not the image\'s /var/lib/alloy, 0770 for',
      'its user 473, which uid 0 without capabilities cannot enter). The image (Ubuntu) has bash but no curl or wget:',
      'the healthcheck speaks HTTP over bash\'s /dev/tcp to /-/ready (200 once the configuration is loaded).',
    ].join('\n'),
    service: {
      image: imageString(c.logAgent.alloy.image),
      container_name: composeContainerName(c, name),
      command: alloyRunArgs(),
      user: '0:0',
      volumes: [
        configMount(COMPOSE_FILES.alloyConfig, `${ALLOY_CONFIG_DIR}/${ALLOY_CONFIG_FILE_NAME}`),
        dockerContainersMount(),
        `${volume}:${ALLOY_STORAGE_PATH}`,
      ],
      tmpfs: ['/tmp:size=16m'],
      // A Loki of the user's behind basic auth: its password, read-only (password_file).
      ...password.service,
      // The stack's Loki first; a Loki of the user's (loki.external) is not a service here.
      ...(lokiService ? { depends_on: { [lokiService]: { condition: 'service_healthy' as const } } } : {}),
      healthcheck: healthcheck(bashHttpCheck(ALLOY_HTTP_PORT, ALLOY_READY_PATH), { startPeriodSeconds: 30 }),
      ...hardenedService(),
      deploy: resourceLimits(c.logAgent.alloy.resources),
    },
  };
}
