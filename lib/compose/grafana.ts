/** The Grafana service: provisioned with the Prometheus and Loki data sources, admin password from the environment. */
import { StackConfig } from '../config';
import { imageString } from '../images';
import { GrafanaDatasourceOptions } from '../render/grafana-provisioning';
import { COMPOSE_FILES } from './config-files';
import { composeLokiPassword } from './loki';
import { ComposeServiceEntry } from './compose-types';
import { composeContainerName, composeServiceName } from './names';
import { configMount, hardenedService, healthcheck, loopbackPort, resourceLimits, wgetCheck } from './service-defaults';
import { GRAFANA_DASHBOARDS_DIR, GRAFANA_DATA_DIR, GRAFANA_HEALTH_PATH, GRAFANA_PORT, GRAFANA_PROVISIONING_DIR, GRAFANA_UID, GRAFANA_DATABASE_PASSWORD_COMPOSE_VARIABLE, GRAFANA_DATABASE_PASSWORD_VARIABLE, GRAFANA_SECRET_KEY_COMPOSE_VARIABLE, GRAFANA_SECRET_KEY_VARIABLES, grafanaDatabaseEnvironment, grafanaSettingsEnvironment } from '../components/grafana';

/** The variable in compose/.env that holds the admin password. */
export const GRAFANA_PASSWORD_VARIABLE = 'GF_ADMIN_PASSWORD';

/**
 * The admin password's value in the compose file: compose interpolates it from compose/.env (or the shell)
 * and refuses to start when it is unset or empty (`:?`), so there is no default password to forget.
 */
export function grafanaPasswordReference(): string {
  return `\${${GRAFANA_PASSWORD_VARIABLE}:?set ${GRAFANA_PASSWORD_VARIABLE} in compose/.env (see .env.example)}`;
}

/**
 * Options of the data source file, as the Kubernetes Grafana passes them: Prometheus's scrape interval, and
 * its version when the tag is a plain x.y.z.
 */
export function grafanaDatasourceOptions(c: StackConfig): GrafanaDatasourceOptions {
  const tag = c.prometheus.image.tag.replace(/^v/, '');
  return {
    scrapeIntervalSeconds: c.prometheus.scrapeIntervalSeconds,
    exemplars: c.prometheus.maxExemplars > 0,
    prometheusQuery: c.grafana.prometheusQuery,
    ...(/^[0-9]+\.[0-9]+\.[0-9]+$/.test(tag) ? { prometheusVersion: tag } : {}),
  };
}

export function composeGrafanaService(c: StackConfig, dependsOn: string[]): ComposeServiceEntry {
  const name = composeServiceName(c, 'grafana');
  const volume = 'grafana-data';
  const password = composeLokiPassword(c);
  return {
    name,
    namedVolumes: [volume],
    ...password.entry,
    comment: [
      'Grafana: data sources provisioned from grafana/provisioning (Prometheus at http://prometheus:9090, Loki at',
      'http://loki:3100 or loki.external.url, Alertmanager at http://alertmanager:9093), so nothing is added by hand.',
      'Starts after Prometheus (and the stack\'s Loki) are healthy. The admin',
      'password comes from compose/.env and compose refuses to start without it. Runs as 472 with a read-only',
      'root: /var/lib/grafana is a named volume and /tmp a tmpfs. Alpine image: wget checks /api/health.',
    ].join('\n'),
    service: {
      image: imageString(c.grafana.image),
      container_name: composeContainerName(c, name),
      user: String(GRAFANA_UID),
      environment: {
        ...grafanaSettingsEnvironment(c.grafana),
        GF_SECURITY_ADMIN_PASSWORD: grafanaPasswordReference(),
        GF_SERVER_ROOT_URL: `http://localhost:${c.compose.ports.grafana}/`,
        // grafana.postgres: the database's settings, its password from compose/.env (compose stops without it).
        ...grafanaDatabaseEnvironment(c.grafana.postgres),
        ...(c.grafana.postgres.enabled ? {
          [GRAFANA_DATABASE_PASSWORD_VARIABLE]: `\${${GRAFANA_DATABASE_PASSWORD_COMPOSE_VARIABLE}:?set ${GRAFANA_DATABASE_PASSWORD_COMPOSE_VARIABLE} in compose/.env (grafana.postgres)}`,
        } : {}),
        // grafana.secretKeySecret: the key from compose/.env (compose stops without it).
        ...(c.grafana.secretKeySecret.name ? Object.fromEntries(GRAFANA_SECRET_KEY_VARIABLES.map((n) => [
          n, `\${${GRAFANA_SECRET_KEY_COMPOSE_VARIABLE}:?set ${GRAFANA_SECRET_KEY_COMPOSE_VARIABLE} in compose/.env (grafana.secretKeySecret)}`,
        ])) : {}),
      },
      ports: [loopbackPort(c.compose.ports.grafana, GRAFANA_PORT)],
      volumes: [
        configMount(COMPOSE_FILES.grafanaDatasourcesDir, `${GRAFANA_PROVISIONING_DIR}/datasources`),
        configMount(COMPOSE_FILES.grafanaDashboardProvidersDir, `${GRAFANA_PROVISIONING_DIR}/dashboards`),
        `${volume}:${GRAFANA_DATA_DIR}`,
        configMount(COMPOSE_FILES.grafanaDashboardsDir, GRAFANA_DASHBOARDS_DIR),
      ],
      tmpfs: ['/tmp:size=256m'],
      // A Loki of the user's behind basic auth: its password, read-only ($__file{…} in the Loki data source).
      ...password.service,
      ...(dependsOn.length > 0
        ? { depends_on: Object.fromEntries(dependsOn.map((s) => [s, { condition: 'service_healthy' as const }])) }
        : {}),
      healthcheck: healthcheck(wgetCheck(`http://127.0.0.1:${GRAFANA_PORT}${GRAFANA_HEALTH_PATH}`), { startPeriodSeconds: 60 }),
      ...hardenedService(),
      deploy: resourceLimits(c.grafana.resources),
    },
  };
}
