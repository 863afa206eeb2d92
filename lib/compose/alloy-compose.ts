/**
 * config.alloy for docker compose on a single host: Grafana Alloy doing what Promtail does there
 * (lib/compose/promtail-compose.ts), the same way: Docker's json-file logs read from the files, not through
 * the Docker socket (the socket is the whole Engine API, i.e. root on the host), labelled from the `attrs`
 * every service writes into its lines (composeLogging), with the Kubernetes rendering's tail stages and writer.
 */
import { StackConfig } from '../config';
import { ALLOY_LOGGING, alloyContractTailStages, alloyHeader, alloyLokiWrite } from '../render/alloy-config';
import { AlloyBlock, expression, renderAlloy } from '../render/alloy-syntax';
import { COMPOSE_NODE_LABEL } from './names';
import { DOCKER_CONTAINERS_DIR, DOCKER_TRAILING_NEWLINE } from './promtail-compose';
import { COMPOSE_PROJECT_LABEL, COMPOSE_SERVICE_LABEL } from './service-defaults';

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
        ['selector', `{namespace!="${c.compose.projectName}"}`],
        ['action', 'drop'],
        ['drop_counter_reason', 'not_in_compose_project'],
      ],
    },
    ...alloyContractTailStages(),
  ];
}

/** config.alloy for compose. `lokiPushUrl` is the full push URL, e.g. http://loki:3100/loki/api/v1/push. */
export function renderAlloyComposeConfig(c: StackConfig, lokiPushUrl: string): string {
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
    alloyLokiWrite(lokiPushUrl),
  ];
  return renderAlloy(blocks, alloyHeader('lib/compose/alloy-compose.ts (renderAlloyComposeConfig)'));
}
