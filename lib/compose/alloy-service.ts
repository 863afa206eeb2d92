/** The Alloy service (`logAgent.kind: alloy`): tails Docker's json-file logs read-only and pushes them to Loki. */
import { StackConfig } from '../config';
import { imageString } from '../images';
import { ALLOY_CONFIG_DIR, ALLOY_CONFIG_FILE_NAME, ALLOY_HTTP_PORT, ALLOY_STORAGE_PATH, alloyRunArgs } from '../render/alloy-config';
import { COMPOSE_FILES } from './config-files';
import { ComposeServiceEntry } from './compose-types';
import { composeContainerName, composeServiceName } from './names';
import { dockerContainersMount } from './promtail-compose';
import { bashHttpCheck, configMount, hardenedService, healthcheck, resourceLimits } from './service-defaults';

export function composeAlloyService(c: StackConfig, lokiService: string): ComposeServiceEntry {
  const name = composeServiceName(c, 'alloy');
  const volume = 'alloy-data';
  return {
    name,
    namedVolumes: [volume],
    comment: [
      'Grafana Alloy: reads the json-file logs in Docker\'s containers directory, mounted read-only; NOT the Docker socket',
      '(the whole Engine API, i.e. root on the host). Every service sets `logging` (json-file, tag {{.Name}}, labels',
      'com.docker.compose.service/project), and alloy/config.alloy turns those `attrs` into namespace/pod/container/app/node.',
      'Relaxed: uid 0, because Docker writes those files root:root 0640 in root-owned 0710 directories; as their',
      'owner, root reads them with no capability, so cap_drop ALL and the read-only root stay.',
      'Rootless Docker or another data-root: set DOCKER_CONTAINERS_DIR in compose/.env (see .env.example).',
      'Positions live in the alloy-data volume at /run/alloy (--storage.path; not the image\'s /var/lib/alloy, 0770 for',
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
      depends_on: { [lokiService]: { condition: 'service_healthy' } },
      healthcheck: healthcheck(bashHttpCheck(ALLOY_HTTP_PORT, '/-/ready'), { startPeriodSeconds: 30 }),
      ...hardenedService(),
      deploy: resourceLimits(c.logAgent.alloy.resources),
    },
  };
}
