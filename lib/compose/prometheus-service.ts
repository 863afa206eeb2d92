/** The Prometheus service: the same image, flags and data path as the Kubernetes Deployment. */
import { StackConfig } from '../config';
import { imageString } from '../images';
import { COMPOSE_FILES, CONTAINER_PATHS } from './config-files';
import { ComposeServiceEntry } from './compose-types';
import { composeContainerName, composeServiceName } from './names';
import { COMPOSE_PROMETHEUS_PORT } from './scrape-targets';
import { configMount, hardenedService, healthcheck, loopbackPort, resourceLimits, wgetCheck } from './service-defaults';

/** uid:gid of `nobody` in the Prometheus image (its USER is the non-numeric `nobody`). */
export const COMPOSE_PROMETHEUS_USER = '65534:65534';
/** Prometheus's TSDB directory (the image's `VOLUME /prometheus`, owned by nobody). */
export const PROMETHEUS_DATA_DIR = '/prometheus';

/** Prometheus's command-line flags (the Kubernetes Deployment's args; a test compares them). */
export function prometheusFlags(c: StackConfig): string[] {
  const p = c.prometheus;
  return [
    `--config.file=${CONTAINER_PATHS.prometheusConfig}`,
    `--storage.tsdb.path=${PROMETHEUS_DATA_DIR}`,
    `--storage.tsdb.retention.time=${p.retentionDays}d`,
    `--storage.tsdb.retention.size=${p.retentionSize}`,
    `--web.listen-address=0.0.0.0:${COMPOSE_PROMETHEUS_PORT}`,
  ];
}

export function composePrometheusService(c: StackConfig): ComposeServiceEntry {
  const name = composeServiceName(c, 'prometheus');
  const volume = 'prometheus-data';
  return {
    name,
    namedVolumes: [volume],
    comment: [
      'Prometheus: scrapes every service below by its service name (prometheus/prometheus.yml, static targets',
      'carrying the label contract). Runs as nobody (65534); its image has busybox, so wget checks /-/ready.',
    ].join('\n'),
    service: {
      image: imageString(c.prometheus.image),
      container_name: composeContainerName(c, name),
      command: prometheusFlags(c),
      user: COMPOSE_PROMETHEUS_USER,
      ports: [loopbackPort(c.compose.ports.prometheus, COMPOSE_PROMETHEUS_PORT)],
      volumes: [
        configMount(COMPOSE_FILES.prometheusConfig, CONTAINER_PATHS.prometheusConfig),
        ...(c.prometheus.alertRules ? [configMount(COMPOSE_FILES.prometheusRulesDir, CONTAINER_PATHS.prometheusRulesDir)] : []),
        `${volume}:${PROMETHEUS_DATA_DIR}`,
      ],
      healthcheck: healthcheck(wgetCheck(`http://127.0.0.1:${COMPOSE_PROMETHEUS_PORT}/-/ready`), { startPeriodSeconds: 30 }),
      ...hardenedService(),
      // Time to write the head block on shutdown (the Deployment's terminationGracePeriodSeconds).
      stop_grace_period: '60s',
      deploy: resourceLimits(c.prometheus.resources),
    },
  };
}
