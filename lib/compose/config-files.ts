/**
 * Where each component's config files live under compose/ (one folder per component, dockprom-style). The
 * same paths feed the compose file's bind mounts and the file map that `npm run synth` writes, so a mount
 * cannot point at a file that is not generated; where they are mounted is the component's fact
 * (lib/components/).
 */
import { RULES_FILE } from '../render/alert-rules';

/** Paths relative to compose/. */
export const COMPOSE_FILES = {
  compose: 'docker-compose.yml',
  envExample: '.env.example',
  gitignore: '.gitignore',
  readme: 'README.md',
  prometheusConfig: 'prometheus/prometheus.yml',
  /** With prometheus.enabled false: the stack's scrape jobs for a Prometheus of the user's (scrape_config_files). */
  prometheusScrapeConfigs: 'prometheus/scrape-configs.yml',
  prometheusRulesDir: 'prometheus/rules',
  prometheusRules: `prometheus/rules/${RULES_FILE}`,
  lokiConfig: 'loki/loki.yaml',
  promtailConfig: 'promtail/promtail.yaml',
  alloyConfig: 'alloy/config.alloy',
  alertmanagerConfig: 'alertmanager/alertmanager.yml',
  /** The receivers' secrets, one file each, written by the person (git ignores them; synthesis keeps them). */
  alertmanagerSecretsDir: 'alertmanager/secrets',
  /** The basic-auth password of a Loki of the user's (loki.external.basicAuth), written by the person (git ignores it; synthesis keeps it). */
  lokiPassword: 'secrets/loki-password',
  grafanaDatasourcesDir: 'grafana/provisioning/datasources',
  grafanaDatasources: 'grafana/provisioning/datasources/datasources.yaml',
  grafanaDashboardProvidersDir: 'grafana/provisioning/dashboards',
  grafanaDashboardProvider: 'grafana/provisioning/dashboards/provider.yaml',
  grafanaDashboardsDir: 'grafana/dashboards',
  grafanaDashboardsReadme: 'grafana/dashboards/README.md',
} as const;

