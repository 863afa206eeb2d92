/**
 * The Helm chart's generated files: values.yaml and values.schema.json from the model, and under files/ the
 * static parts of the config files, rendered by the very renderers the cdk8s constructs use. The chart's
 * templates load those with `.Files.Get` and add only what depends on values (intervals, URLs, retention), so
 * the chart and the manifests share one source for everything else.
 *
 * `npm run synth` regenerates them (lib/synth.ts); test/helm-generated.test.ts fails when they drift.
 */
import {
  KUBE_STATE_METRICS_IMAGE_FACTS, KUBE_STATE_METRICS_LIVE_PATH, KUBE_STATE_METRICS_PORT, KUBE_STATE_METRICS_PORT_NAME, KUBE_STATE_METRICS_READY_PATH,
  KUBE_STATE_METRICS_TELEMETRY_PORT, KUBE_STATE_METRICS_TELEMETRY_PORT_NAME, kubeStateMetricsArgs, kubeStateMetricsRules, KUBE_STATE_METRICS_INGRESS_FROM,
} from '../components/kube-state-metrics';
import {
  NODE_EXPORTER_HOST_MOUNTS, NODE_EXPORTER_IMAGE_FACTS, NODE_EXPORTER_K8S_LISTEN_ADDRESS, NODE_EXPORTER_PORT, NODE_EXPORTER_PORT_NAME, NODE_EXPORTER_PROBE_PATH, nodeExporterArgs,
} from '../components/node-exporter';
import { ALERTMANAGER_CONFIG_FILE, ALERTMANAGER_DATA_DIR, ALERTMANAGER_HEALTHY_PATH, ALERTMANAGER_IMAGE_FACTS, ALERTMANAGER_PORT, ALERTMANAGER_READY_PATH, ALERTMANAGER_SECRET_FILES, ALERTMANAGER_SECRETS_DIR, alertmanagerFlags, ALERTMANAGER_INGRESS_FROM } from '../components/alertmanager';
import { alertmanagerConfigInput, renderAlertmanagerConfig } from '../render/alertmanager-config';
import * as fs from 'fs';
import * as path from 'path';
import { parseStackConfig, resourceBlocks, STACK_RULES } from '../config';
import { METRICS_PATH, POD_LOGS_DIR } from '../image-facts';
import { ALLOY_CONFIG_DIR, ALLOY_HOST_DATA_DIR, ALLOY_HTTP_PORT, ALLOY_READY_PATH, ALLOY_STORAGE_PATH, alloyRunArgs, ALLOY_INGRESS_FROM } from '../components/alloy';
import { APP_HEALTH_PATH, APP_READY_PATH, APP_UID, TRAFFIC_COMMAND, TRAFFIC_HEALTH_PORT, APP_INGRESS_FROM } from '../components/app';
import { GRAFANA_ADMIN_PASSWORD_FILE, GRAFANA_DASHBOARDS_DIR, GRAFANA_DATA_DIR, GRAFANA_HEALTH_PATH, GRAFANA_PASSWORD_INIT_SCRIPT, GRAFANA_PORT, GRAFANA_PROVISIONING_DIR, GRAFANA_SECRET_PASSWORD_FILE, GRAFANA_DATABASE_CA_FILE, GRAFANA_UID, grafanaSettingsEnvironment, GRAFANA_INGRESS_FROM, GRAFANA_ALERTING_PORT, GRAFANA_ALERTING_SERVICE, GRAFANA_POD_IP_VARIABLE, grafanaAlertingEnvironment, GRAFANA_SECRET_KEY_VARIABLES } from '../components/grafana';
import { LOKI_CONFIG_DIR, LOKI_DATA_DIR, LOKI_GRPC_PORT, LOKI_HTTP_PORT, LOKI_PUSH_PATH, LOKI_READY_PATH, LOKI_UID, lokiFlags, LOKI_INGRESS_FROM, LOKI_MEMBERLIST_PORT, LOKI_MEMBERLIST_SERVICE, LOKI_POD_IP_VARIABLE, LOKI_S3_KEY_VARIABLES, LOKI_PASSWORD_FILE } from '../components/loki';
import { PROMETHEUS_CONFIG_FILE, PROMETHEUS_DATA_DIR, PROMETHEUS_HEALTHY_PATH, PROMETHEUS_PORT, PROMETHEUS_READY_PATH, PROMETHEUS_RULES_DIR, PROMETHEUS_UID, prometheusFlags, PROMETHEUS_EXEMPLAR_FLAG, PROMETHEUS_INGRESS_FROM, PROMETHEUS_SCRAPE_CONFIGS_FILE, PROMETHEUS_ADDITIONAL_SCRAPE_CONFIGS_FILE } from '../components/prometheus';
import { PROMTAIL_CONFIG_DIR, PROMTAIL_HTTP_PORT, PROMTAIL_POSITIONS_DIR, PROMTAIL_READY_PATH, promtailFlags, PROMTAIL_INGRESS_FROM } from '../components/promtail';
import { renderAlertRules, RULES_DEPEND_ON, RULES_FILE } from '../render/alert-rules';
import { alloyPushAttributes, renderAlloyKubernetesConfig } from '../render/alloy-config';
import { expression } from '../render/alloy-syntax';
import { dashboardVariants } from '../render/dashboards';
import { everyCombination, variantName } from '../render/variants';
import { renderGrafanaDashboardProvider, renderGrafanaDatasources, TENANT_HEADER } from '../render/grafana-provisioning';
import { lokiIngestionLimits, lokiRing, lokiSchemaPeriods, renderLokiConfig } from '../render/loki-config';
import { kubeletScrapeConfigs, kubeStateMetricsScrapeConfig, nodeExporterScrapeConfig, renderKubernetesPrometheusConfig } from '../render/prometheus-config';
import { renderPromtailKubernetesConfig } from '../render/promtail-config';
import { toYaml } from '../render/yaml';
import { chartValues, renderValuesYaml } from './values';
import { renderValuesSchema } from './values-schema';

/**
 * What the chart's templates need of each component's facts. Flags that depend on values carry placeholders
 * the template fills (`${retentionDays}`, `${retentionSize}`); lists keep their order (Helm ranges over maps
 * in key order).
 */
export function componentFacts(): Record<string, object> {
  const { GF_SECURITY_ADMIN_USER: _user, ...grafanaSettings } = grafanaSettingsEnvironment(parseStackConfig({}).grafana);
  return {
    prometheus: {
      port: PROMETHEUS_PORT, uid: PROMETHEUS_UID, configFile: PROMETHEUS_CONFIG_FILE, rulesDir: PROMETHEUS_RULES_DIR, dataDir: PROMETHEUS_DATA_DIR,
      readyPath: PROMETHEUS_READY_PATH, healthyPath: PROMETHEUS_HEALTHY_PATH, ingressFrom: PROMETHEUS_INGRESS_FROM,
      scrapeConfigsFile: PROMETHEUS_SCRAPE_CONFIGS_FILE, additionalScrapeConfigsFile: PROMETHEUS_ADDITIONAL_SCRAPE_CONFIGS_FILE,
      args: prometheusFlags({ retentionDays: '${retentionDays}', retentionSize: '${retentionSize}', maxExemplars: 0 }), exemplarArgs: [PROMETHEUS_EXEMPLAR_FLAG],
    },
    loki: {
      httpPort: LOKI_HTTP_PORT, grpcPort: LOKI_GRPC_PORT, uid: LOKI_UID, configDir: LOKI_CONFIG_DIR, dataDir: LOKI_DATA_DIR,
      readyPath: LOKI_READY_PATH, pushPath: LOKI_PUSH_PATH, args: lokiFlags(), ingressFrom: LOKI_INGRESS_FROM,
      // With loki.replicas above 1: the flags, each pod's address variable and the ring's settings (lokiRing).
      severalArgs: lokiFlags(true), podIpVariable: LOKI_POD_IP_VARIABLE, severalRing: lokiRing(2, { service: '', clusterLabel: '' }),
      // With loki.storage.s3: the variables the keys go in, and the bucket's schema period (its `from` set by the template).
      // With loki.replicas above 1: the gossip port and the headless Service the pods find each other through.
      memberlistPort: LOKI_MEMBERLIST_PORT, memberlistService: LOKI_MEMBERLIST_SERVICE,
      s3KeyVariables: LOKI_S3_KEY_VARIABLES, passwordFile: LOKI_PASSWORD_FILE, s3Period: lokiSchemaPeriods({ ...parseStackConfig({}).loki.storage.s3, enabled: true, since: '' })[1],
    },
    grafana: {
      port: GRAFANA_PORT, uid: GRAFANA_UID, dataDir: GRAFANA_DATA_DIR, provisioningDir: GRAFANA_PROVISIONING_DIR, dashboardsDir: GRAFANA_DASHBOARDS_DIR,
      adminPasswordFile: GRAFANA_ADMIN_PASSWORD_FILE, secretPasswordFile: GRAFANA_SECRET_PASSWORD_FILE, databaseCaFile: GRAFANA_DATABASE_CA_FILE, healthPath: GRAFANA_HEALTH_PATH, ingressFrom: GRAFANA_INGRESS_FROM,
      settings: Object.entries(grafanaSettings).map(([name, value]) => ({ name, value })),
      // The header a multi-tenant store reads grafana.prometheusQuery.tenant from.
      tenantHeader: TENANT_HEADER,
      // Where grafana.secretKeySecret's key goes.
      secretKeyVariables: GRAFANA_SECRET_KEY_VARIABLES,
      // Several pods: alerting's gossip port, headless Service and settings (${peers}: that Service's name; ${label}: the cluster's label).
      alertingPort: GRAFANA_ALERTING_PORT, alertingService: GRAFANA_ALERTING_SERVICE, podIpVariable: GRAFANA_POD_IP_VARIABLE,
      alertingEnvironment: Object.entries(grafanaAlertingEnvironment('${peers}', '${label}')).map(([name, value]) => ({ name, value })),
    },
    promtail: {
      port: PROMTAIL_HTTP_PORT, configDir: PROMTAIL_CONFIG_DIR, positionsDir: PROMTAIL_POSITIONS_DIR, readyPath: PROMTAIL_READY_PATH, args: promtailFlags(), ingressFrom: PROMTAIL_INGRESS_FROM,
    },
    alloy: {
      port: ALLOY_HTTP_PORT, configDir: ALLOY_CONFIG_DIR, storagePath: ALLOY_STORAGE_PATH, hostDataDir: ALLOY_HOST_DATA_DIR, readyPath: ALLOY_READY_PATH, args: alloyRunArgs(), ingressFrom: ALLOY_INGRESS_FROM,
    },
    alertmanager: {
      port: ALERTMANAGER_PORT, uid: ALERTMANAGER_IMAGE_FACTS.user.uid, configFile: ALERTMANAGER_CONFIG_FILE, dataDir: ALERTMANAGER_DATA_DIR,
      secretsDir: ALERTMANAGER_SECRETS_DIR, secretFiles: { ...ALERTMANAGER_SECRET_FILES }, readyPath: ALERTMANAGER_READY_PATH,
      healthyPath: ALERTMANAGER_HEALTHY_PATH, args: alertmanagerFlags(), ingressFrom: ALERTMANAGER_INGRESS_FROM,
    },
    kubeStateMetrics: {
      uid: KUBE_STATE_METRICS_IMAGE_FACTS.user.uid, port: KUBE_STATE_METRICS_PORT, portName: KUBE_STATE_METRICS_PORT_NAME,
      telemetryPort: KUBE_STATE_METRICS_TELEMETRY_PORT, telemetryPortName: KUBE_STATE_METRICS_TELEMETRY_PORT_NAME,
      livePath: KUBE_STATE_METRICS_LIVE_PATH, readyPath: KUBE_STATE_METRICS_READY_PATH,
      // The arguments with the allowlist left to the template (the values' metricLabelsAllowlist).
      args: kubeStateMetricsArgs('${metricLabelsAllowlist}'), rules: kubeStateMetricsRules(), ingressFrom: KUBE_STATE_METRICS_INGRESS_FROM,
    },
    nodeExporter: {
      uid: NODE_EXPORTER_IMAGE_FACTS.user.uid, port: NODE_EXPORTER_PORT, portName: NODE_EXPORTER_PORT_NAME, probePath: NODE_EXPORTER_PROBE_PATH,
      args: nodeExporterArgs({ listenAddress: NODE_EXPORTER_K8S_LISTEN_ADDRESS, hostNetwork: true }),
      hostMounts: NODE_EXPORTER_HOST_MOUNTS.map((m) => ({ ...m })),
    },
    // The model's defaults of settings added after 0.1.0, for a release upgraded with --reuse-values without them.
    defaults: { lokiIngestionLimits: { ...parseStackConfig({}).loki.ingestionLimits }, logAgentPush: { ...parseStackConfig({}).logAgent.push }, prometheusMaxExemplars: parseStackConfig({}).prometheus.maxExemplars },
    // The helm test pods' image when a release upgraded from 0.1.0 with --reuse-values has no tests block.
    testsImage: { ...chartValues(parseStackConfig({})).tests.image },
    // The host directories the log agents read.
    host: { podLogsDir: POD_LOGS_DIR },
    // What every component shares: the path it serves its metrics at.
    all: { metricsPath: METRICS_PATH },
    app: {
      uid: APP_UID, readyPath: APP_READY_PATH, healthPath: APP_HEALTH_PATH, trafficCommand: TRAFFIC_COMMAND, trafficHealthPort: TRAFFIC_HEALTH_PORT, ingressFrom: APP_INGRESS_FROM,
    },
  };
}

/** The text templates/alloy/configmap.yaml replaces with Loki's push URL in files/alloy/config.alloy. */
export const ALLOY_LOKI_PUSH_URL_PLACEHOLDER = 'LOKI_PUSH_URL';
/** The text templates/alloy/configmap.yaml replaces with the tenant, or whose line it drops without one (loki.external.tenant). */
export const ALLOY_LOKI_TENANT_PLACEHOLDER = 'LOKI_TENANT';
/** The text templates/alloy/configmap.yaml replaces with the basic-auth user, or whose basic_auth block it drops without one (loki.external.basicAuth). */
export const ALLOY_LOKI_USERNAME_PLACEHOLDER = 'LOKI_USERNAME';
/** The texts templates/alloy/configmap.yaml replaces with loki.write's batching and retries (alloyPushAttributes), by attribute. */
export const ALLOY_PUSH_PLACEHOLDERS: Record<string, string> = {
  batch_wait: 'ALLOY_BATCH_WAIT', batch_size: 'ALLOY_BATCH_SIZE', min_backoff_period: 'ALLOY_MIN_BACKOFF_PERIOD',
  max_backoff_period: 'ALLOY_MAX_BACKOFF_PERIOD', max_backoff_retries: 'ALLOY_MAX_BACKOFF_RETRIES',
};

/** Header of every generated file under files/, naming its source and the command that makes it. */
function header(source: string): string {
  return `# Generated by \`npm run synth\` (lib/helm/chart-files.ts) from ${source}. Do not edit: change the source and synthesize again.\n`;
}

/**
 * Every generated file of the chart: path relative to the chart's folder → content. Independent of any
 * STACK_CONFIG: the chart's defaults are the model's defaults.
 */
export function renderChartFiles(): Map<string, string> {
  const c = parseStackConfig({});
  const files = new Map<string, string>();
  files.set('values.yaml', renderValuesYaml(chartValues(c)));
  files.set('values.schema.json', renderValuesSchema(chartValues(c)));

  // prometheus.yml: the pod job is static; the template adds global, rule_files, remote_write, and the
  // kubelet jobs with their interval and TLS from the values.
  files.set('files/prometheus/scrape-configs.yaml',
    header('lib/render/prometheus-config.ts (renderKubernetesPrometheusConfig: scrape_configs)') +
    toYaml(renderKubernetesPrometheusConfig(c.prometheus).scrape_configs));
  files.set('files/prometheus/kube-state-metrics-scrape-config.yaml',
    header('lib/render/prometheus-config.ts (kubeStateMetricsScrapeConfig; the namespace set by the template)') +
    toYaml(kubeStateMetricsScrapeConfig(c.namespace)));
  files.set('files/prometheus/node-exporter-scrape-config.yaml',
    header('lib/render/prometheus-config.ts (nodeExporterScrapeConfig; the namespace set by the template)') +
    toYaml(nodeExporterScrapeConfig(c.logAgent.namespace)));
  files.set('files/prometheus/kubelet-scrape-configs.yaml',
    header('lib/render/prometheus-config.ts (kubeletScrapeConfigs; scrape_interval and tls_config set by the template)') +
    toYaml(kubeletScrapeConfigs(c.kubelet)));
  // The rules in every variant of what they depend on (Alertmanager, kube-state-metrics), rules/<variant>/:
  // the templates take the one the values call for (observability-stack.rulesDir).
  for (const on of everyCombination(RULES_DEPEND_ON)) {
    files.set(`files/prometheus/rules/${variantName(RULES_DEPEND_ON, on)}/${RULES_FILE}`,
      header(`lib/render/alert-rules.ts (renderAlertRules ${JSON.stringify(on)})`) + toYaml(renderAlertRules(on)));
  }

  // loki.yaml: all static but limits_config's retention_period and ingestion limits, and ingester (the WAL
  // replay ceiling, from the memory limit), which the template adds from the values.
  const loki = renderLokiConfig(c.loki) as { limits_config: Record<string, unknown>; ingester?: unknown };
  delete loki.limits_config.retention_period;
  for (const key of Object.keys(lokiIngestionLimits(c.loki.ingestionLimits))) delete loki.limits_config[key];
  delete loki.ingester;
  files.set('files/loki/loki.yaml', header('lib/render/loki-config.ts (renderLokiConfig, without limits_config.retention_period, the ingestion limits and ingester)') + toYaml(loki));

  // promtail.yaml: all static but clients (Loki's push URL, batching and retries), which the template adds.
  const promtail = renderPromtailKubernetesConfig('', c.logAgent.push) as Record<string, unknown>;
  delete promtail.clients;
  // config.alloy: all static but Loki's push URL and the endpoint's batching and retries, which the template puts
  // in place of the placeholders (ALLOY_PUSH_PLACEHOLDERS).
  files.set('files/alloy/config.alloy', renderAlloyKubernetesConfig(ALLOY_LOKI_PUSH_URL_PLACEHOLDER,
    alloyPushAttributes(c.logAgent.push).map(([key]) => [key, expression(ALLOY_PUSH_PLACEHOLDERS[key])] as const),
    { tenant: ALLOY_LOKI_TENANT_PLACEHOLDER, username: ALLOY_LOKI_USERNAME_PLACEHOLDER }));

  files.set('files/promtail/promtail.yaml', header('lib/render/promtail-config.ts (renderPromtailKubernetesConfig, without clients)') + toYaml(promtail));

  // datasources.yaml: the template sets the URLs and timeInterval, the Prometheus version when the tag is x.y.z,
  // and drops Loki's data source when Loki is off. Everything else (uids, the one default, jsonData) is here.
  // alertmanager.yml with every receiver on: the template sets the timings and each receiver's settings, and
  // drops the receivers (and their routes) that are off.
  const allReceivers = parseStackConfig({ alertmanager: { receivers: {
    webhook: { enabled: true, urlSecret: { name: 'x' } }, slack: { enabled: true, apiUrlSecret: { name: 'x' } },
    email: { enabled: true, to: 'x@x', from: 'x@x', smarthost: 'x:25', authUsername: 'x', authPasswordSecret: { name: 'x' } },
  } } }).alertmanager;
  files.set('files/alertmanager/alertmanager.yaml',
    header('lib/render/alertmanager-config.ts (renderAlertmanagerConfig with every receiver on; the template sets the values)') +
    toYaml(renderAlertmanagerConfig(alertmanagerConfigInput(allReceivers))));

  files.set('files/grafana/datasources.yaml',
    header('lib/render/grafana-provisioning.ts (renderGrafanaDatasources; URLs and timeInterval set by the template, which drops the exemplar link without Loki or exemplars)') +
    toYaml(renderGrafanaDatasources({ prometheus: '', loki: '', alertmanager: '' }, { exemplars: true })));
  files.set('files/grafana/dashboard-providers.yaml',
    header('lib/render/grafana-provisioning.ts (renderGrafanaDashboardProvider)') + toYaml(renderGrafanaDashboardProvider()));
  // Dashboards: each in every variant of the components it depends on (dashboards/<name>/<variant>.json), and
  // the index from which the template picks the variant the values call for. JSON has no comments: each
  // dashboard's description names its source and this command.
  const dashboards = dashboardVariants();
  files.set('files/grafana/dashboards/index.yaml', header('lib/render/dashboards.ts (dashboardVariants: each dashboard and the components it depends on)') + toYaml(dashboards.index));
  for (const [name, json] of dashboards.files) files.set(`files/grafana/dashboards/${name}`, json);
  // Each component's runtime facts (lib/components/): the templates take ports, uids, paths, flags, probe
  // paths and settings from here instead of writing them again.
  files.set('files/components.yaml', header('lib/components/ (each component\'s runtime facts)') + toYaml(componentFacts()));
  // The model's rules across settings (lib/validate-stack.ts), which templates/_validate.tpl applies row by row
  // with the model's words; compose-only rows are left out.
  // values.yaml's values, for the rules' messages (" (the default)"): .Files cannot read values.yaml itself.
  files.set('files/validate/defaults.yaml', header('lib/helm/values.ts (chartValues of the model\'s defaults, as values.yaml)') + toYaml(chartValues(c)));
  files.set('files/validate/rules.yaml', header('lib/config.ts (STACK_RULES, the table of lib/validate-stack.ts)') +
    toYaml({ rules: STACK_RULES.filter((r) => !('composeOnly' in r)) }));
  // The requests/limits blocks of values.yaml, found in the values as the model finds them in its settings:
  // templates/_validate.tpl checks requests <= limits for each, so no component can be forgotten there.
  files.set('files/validate/resource-settings.yaml',
    header('lib/config.ts (resourceBlocks of the chart\'s values)') + toYaml({ settings: resourceBlocks(chartValues(c)).map(([path]) => path) }));
  files.set('files/grafana/init-admin-password.yaml',
    header('lib/k8s/grafana.ts (GRAFANA_PASSWORD_INIT_SCRIPT)') + toYaml({ script: GRAFANA_PASSWORD_INIT_SCRIPT }));
  return files;
}

/**
 * Writes the generated files into the chart at `chartDir`: files/ is replaced as a whole (it holds nothing
 * else), values.yaml and values.schema.json each by an atomic rename. The templates are left alone.
 */
export function writeChartFiles(chartDir: string, files: Map<string, string>, replaceDir: (dir: string, files: Map<string, string>) => void): void {
  const under = new Map<string, string>();
  for (const [name, content] of files) {
    if (name.startsWith('files/')) under.set(name.slice('files/'.length), content);
  }
  replaceDir(path.join(chartDir, 'files'), under);
  for (const [name, content] of files) {
    if (name.startsWith('files/')) continue;
    const target = path.join(chartDir, name);
    const tmp = `${target}.synth-tmp`;
    fs.writeFileSync(tmp, content, { mode: 0o644 });
    fs.renameSync(tmp, target);
  }
}
