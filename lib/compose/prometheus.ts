/** The Prometheus service: the same image, flags and data path as the Kubernetes Deployment. */
import { StackConfig } from '../config';
import { ALERTMANAGER_PORT } from '../components/alertmanager';
import { imageString } from '../images';
import { PROMETHEUS_CONFIG_FILE, PROMETHEUS_DATA_DIR, PROMETHEUS_GID, PROMETHEUS_PORT, PROMETHEUS_READY_PATH, PROMETHEUS_RULES_DIR, PROMETHEUS_UID, prometheusFlags } from '../components/prometheus';
import { prometheusConfig, PrometheusConfig, ScrapeConfig } from '../render/prometheus-config';
import { ComposeServiceEntry } from './compose-types';
import { COMPOSE_FILES } from './config-files';
import { composeContainerName, composeServiceName } from './names';
import { composeScrapeTargets } from './scrape-targets';
import { composeNodeExporterScrapeConfig } from './node-exporter';
import { composeCadvisorScrapeConfig } from './cadvisor';
import { composeUserAppScrapeConfigs } from './user-apps';
import { configMount, hardenedService, healthcheck, loopbackPort, resourceLimits, wgetCheck } from './service-defaults';

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
      command: prometheusFlags(c.prometheus),
      user: `${PROMETHEUS_UID}:${PROMETHEUS_GID}`,
      ports: [loopbackPort(c.compose.ports.prometheus, PROMETHEUS_PORT)],
      volumes: [
        configMount(COMPOSE_FILES.prometheusConfig, PROMETHEUS_CONFIG_FILE),
        ...(c.prometheus.alertRules ? [configMount(COMPOSE_FILES.prometheusRulesDir, PROMETHEUS_RULES_DIR)] : []),
        `${volume}:${PROMETHEUS_DATA_DIR}`,
      ],
      healthcheck: healthcheck(wgetCheck(`http://127.0.0.1:${PROMETHEUS_PORT}${PROMETHEUS_READY_PATH}`), { startPeriodSeconds: 30 }),
      ...hardenedService(),
      // Time to write the head block on shutdown (the Deployment's terminationGracePeriodSeconds).
      stop_grace_period: '60s',
      deploy: resourceLimits(c.prometheus.resources),
    },
  };
}

/**
 * prometheus.yml for docker compose on a single host: one job per service of the stack, a static target at
 * the service's DNS name, and the label contract's values for its container as static labels, so they equal
 * what the log agent gives the same container's log streams (lib/compose/names.ts); and node-exporter's job,
 * whose series describe the host (lib/compose/node-exporter.ts). Same global section,
 * rule file and remote_write as on Kubernetes.
 */
export function renderComposePrometheusConfig(c: StackConfig): PrometheusConfig {
  return prometheusConfig(c.prometheus, composeScrapeJobs(c), c.alertmanager.enabled ? [`${composeServiceName(c, 'alertmanager')}:${ALERTMANAGER_PORT}`] : []);
}

/** The compose stack's scrape jobs: its services, node-exporter, cAdvisor and the user's apps (compose.apps). */
export function composeScrapeJobs(c: StackConfig): ScrapeConfig[] {
  return [
    ...composeScrapeTargets(c).map((t) => ({
      job_name: t.service,
      metrics_path: t.metricsPath,
      static_configs: [{ targets: [`${t.service}:${t.port}`], labels: { ...t.labels } }],
    })),
    ...(c.nodeExporter.enabled ? [composeNodeExporterScrapeConfig(c)] : []),
    ...(c.compose.cadvisor.enabled ? [composeCadvisorScrapeConfig(c)] : []),
    ...composeUserAppScrapeConfigs(c),
  ];
}
