/** The Promtail service: tails Docker's json-file logs read-only and pushes them to Loki. */
import { StackConfig } from '../config';
import { imageString } from '../images';
import { PROMTAIL_CONFIG_FILE } from '../k8s/promtail';
import { PROMTAIL_HTTP_PORT, PROMTAIL_POSITIONS_DIR } from '../render/promtail-config';
import { COMPOSE_FILES } from './config-files';
import { ComposeServiceEntry } from './compose-types';
import { composeContainerName, composeServiceName } from './names';
import { dockerContainersMount } from './promtail-compose';
import { bashHttpCheck, configMount, hardenedService, healthcheck, resourceLimits } from './service-defaults';

export function composePromtailService(c: StackConfig, lokiService: string): ComposeServiceEntry {
  const name = composeServiceName(c, 'promtail');
  const volume = 'promtail-positions';
  return {
    name,
    namedVolumes: [volume],
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
      command: [`-config.file=${PROMTAIL_CONFIG_FILE}`],
      user: '0:0',
      volumes: [
        configMount(COMPOSE_FILES.promtailConfig, PROMTAIL_CONFIG_FILE),
        dockerContainersMount(),
        `${volume}:${PROMTAIL_POSITIONS_DIR}`,
      ],
      tmpfs: ['/tmp:size=16m'],
      depends_on: { [lokiService]: { condition: 'service_healthy' } },
      healthcheck: healthcheck(bashHttpCheck(PROMTAIL_HTTP_PORT, '/ready'), { startPeriodSeconds: 30 }),
      ...hardenedService(),
      deploy: resourceLimits(c.logAgent.promtail.resources),
    },
  };
}
