/** The Loki service: the same image, config file (rendered by renderLokiConfig) and data path as on Kubernetes. */
import { StackConfig } from '../config';
import { imageString } from '../images';
import { COMPOSE_FILES } from './config-files';
import { ComposeService, ComposeServiceEntry } from './compose-types';
import { composeContainerName, composeServiceName } from './names';
import { configMount, hardenedService, healthcheck, resourceLimits } from './service-defaults';
import { LOKI_PASSWORD_FILE, lokiClientAuth, LOKI_BINARY, LOKI_CONFIG_FILE, LOKI_DATA_DIR, LOKI_S3_COMPOSE_VARIABLES, LOKI_S3_KEY_VARIABLES, LOKI_UID, lokiFlags } from '../components/loki';

/**
 * The basic-auth password of a Loki of the user's (loki.external.basicAuth) in the services that talk to it
 * (the log agent and Grafana): the file compose/secrets/loki-password the person writes, a compose file secret
 * (a read-only bind mount) at LOKI_PASSWORD_FILE. Nothing without basic auth.
 */
export function composeLokiPassword(c: StackConfig): { readonly entry: Pick<ComposeServiceEntry, 'secrets'>; readonly service: Pick<ComposeService, 'secrets'> } {
  if (!lokiClientAuth(c.loki).username) return { entry: {}, service: {} };
  return { entry: { secrets: { [LOKI_PASSWORD_SECRET]: `./${COMPOSE_FILES.lokiPassword}` } }, service: { secrets: [{ source: LOKI_PASSWORD_SECRET, target: LOKI_PASSWORD_FILE }] } };
}
const LOKI_PASSWORD_SECRET = 'loki-password';

export function composeLokiService(c: StackConfig): ComposeServiceEntry {
  const name = composeServiceName(c, 'loki');
  const volume = 'loki-data';
  return {
    name,
    namedVolumes: [volume],
    comment: [
      'Loki: monolithic, filesystem storage on a named volume at /loki (the image makes /loki owned by 10001, and a',
      'fresh named volume takes that ownership). Not published: only the log agent and Grafana talk to it.',
      'The image is distroless (no shell, no wget): `loki -health` (Loki >= 3.7) checks its own /ready.',
    ].join('\n'),
    service: {
      image: imageString(c.loki.image),
      container_name: composeContainerName(c, name),
      command: lokiFlags(),
      user: String(LOKI_UID),
      // loki.storage.s3: the keys from compose/.env; compose refuses to start while one is unset or empty.
      ...(c.loki.storage.s3.enabled ? {
        environment: Object.fromEntries((['accessKeyId', 'secretAccessKey'] as const).map((k) => [
          LOKI_S3_KEY_VARIABLES[k], `\${${LOKI_S3_COMPOSE_VARIABLES[k]}:?set ${LOKI_S3_COMPOSE_VARIABLES[k]} in compose/.env (loki.storage.s3)}`,
        ])),
      } : {}),
      volumes: [
        configMount(COMPOSE_FILES.lokiConfig, LOKI_CONFIG_FILE),
        `${volume}:${LOKI_DATA_DIR}`,
      ],
      tmpfs: ['/tmp:size=256m'],
      // /ready turns 200 about 15 s after the ingester joins its ring.
      // `loki -health` gives up after its own 5 s HTTP timeout; the healthcheck's timeout leaves room above it.
      healthcheck: healthcheck([LOKI_BINARY, '-health'], { startPeriodSeconds: 60, timeoutSeconds: 10 }),
      ...hardenedService(),
      // Time to flush in-memory chunks on shutdown.
      stop_grace_period: '60s',
      deploy: resourceLimits(c.loki.resources),
    },
  };
}
