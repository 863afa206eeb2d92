/**
 * Prometheus: discovers annotated pods in every namespace, keeps its TSDB on a PersistentVolumeClaim and
 * loads the stack's rules. With prometheus.enabled false, only what a Prometheus of the user's loads to do the
 * same: the scrape jobs (ConfigMap prometheus-scrape-configs) and the rules (prometheus-rules, the PrometheusRule).
 */
import { k8s } from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { PrometheusRule, PrometheusRuleSpecGroupsRulesExpr } from '../../imports/prometheusrule-monitoring.coreos.com';
import { KubeletSettings, PrometheusSettings } from '../config';
import { modelDefaults } from './util';
import { configChecksum, httpProbe, pvcSpec, resourceRequirements, restrictedContainerSecurity, restrictedPodSecurity, scrapeAnnotations, singlePodDeploymentSpec } from './util';
import { applyPodSettingsTo } from './pod-settings';
import { componentLabels, selectorLabels } from './labels';
import { PodReader } from './pod-reader';
import { renderAlertRules, RULES_FILE } from '../render/alert-rules';
import { kubernetesScrapeConfigs, renderKubernetesPrometheusConfig, scrapeConfigsFile } from '../render/prometheus-config';
import { toYaml } from '../render/yaml';
import { PROMETHEUS_CONFIG_FILE, PROMETHEUS_DATA_DIR, PROMETHEUS_HEALTHY_PATH, PROMETHEUS_NAME, PROMETHEUS_PORT, PROMETHEUS_READY_PATH, PROMETHEUS_RULES_DIR, PROMETHEUS_SCRAPE_CONFIGS_FILE, PROMETHEUS_ADDITIONAL_SCRAPE_CONFIGS_FILE, PROMETHEUS_UID, prometheusFlags } from '../components/prometheus';

export interface PrometheusProps {
  /** Namespace of Prometheus's objects (Pod Security restricted). @default monitoring */
  readonly namespace?: string;
  /** Prometheus's settings: the model's `prometheus` block. @default the model's defaults */
  readonly settings?: PrometheusSettings;
  /** The cluster's DNS domain, in Prometheus's address. @default cluster.local */
  readonly clusterDomain?: string;
  /** Alertmanagers to send alerts to, host:port. @default none: alerts are only evaluated */
  readonly alertmanagers?: readonly string[];
  /** The kubelet jobs' settings: the model's `kubelet` block. @default the model's defaults */
  readonly kubelet?: KubeletSettings;
  /** Whether kube-state-metrics runs in Prometheus's namespace (its job is added). @default false */
  readonly kubeStateMetrics?: boolean;
  /** The namespace node-exporter runs in, when it does (its job is added). @default none */
  readonly nodeExporterNamespace?: string;
}

export class Prometheus extends Construct {
  /** In-cluster URL of Prometheus (Grafana's data source); none with prometheus.enabled false. */
  public readonly url?: string;
  /** The rendered prometheus.yml; with prometheus.enabled false, the scrape jobs for the user's Prometheus (scrape-configs.yaml). */
  public readonly configYaml: string;
  /** Its settings (Grafana's data source takes the scrape interval and version from them). */
  public readonly settings: PrometheusSettings;

  constructor(scope: Construct, id: string, props: PrometheusProps = {}) {
    super(scope, id);
    const defaults = modelDefaults();
    const p = props.settings ?? defaults.prometheus;
    const ns = props.namespace ?? defaults.namespace;
    const clusterDomain = props.clusterDomain ?? defaults.clusterDomain;
    this.settings = p;
    const name = PROMETHEUS_NAME;
    const labels = componentLabels(name, 'metrics', p.image);
    const kubelet = props.kubelet ?? defaults.kubelet;
    const scrapeOptions = {
      kubelet,
      ...(props.kubeStateMetrics ? { kubeStateMetricsNamespace: ns } : {}),
      ...(props.nodeExporterNamespace !== undefined ? { nodeExporterNamespace: props.nodeExporterNamespace } : {}),
    };
    const ruleOptions = { alertmanager: (props.alertmanagers ?? []).length > 0, kubeStateMetrics: props.kubeStateMetrics ?? false, kubelet: kubelet.enabled, nodeExporter: props.nodeExporterNamespace !== undefined };
    // The stack's rules: the ConfigMap Prometheus mounts (or a Prometheus of the user's loads), and the PrometheusRule.
    const ruleGroups = p.alertRules ? renderAlertRules(ruleOptions).groups : undefined;
    const rulesData: Record<string, string> = ruleGroups ? { [RULES_FILE]: toYaml({ groups: ruleGroups }) } : {};
    const addRules = () => new k8s.KubeConfigMap(this, 'rules', {
      metadata: { name: `${name}-rules`, namespace: ns, labels },
      data: rulesData,
    });
    const addPrometheusRule = () => {
      if (!p.prometheusRule.enabled || !ruleGroups) return;
      new PrometheusRule(this, 'prometheus-rule', {
        metadata: { name: 'observability-stack', namespace: ns, labels: { ...labels, ...p.prometheusRule.labels } },
        spec: { groups: ruleGroups.map((g) => ({ name: g.name, rules: g.rules.map((r) => ({ ...r, expr: PrometheusRuleSpecGroupsRulesExpr.fromString(r.expr) })) })) },
      });
    };

    if (!p.enabled) {
      // A Prometheus of the user's scrapes the stack: its jobs, for scrape_config_files, or as the bare list the
      // Prometheus Operator's additionalScrapeConfigs Secret holds.
      const file = scrapeConfigsFile(p, kubernetesScrapeConfigs(scrapeOptions));
      this.configYaml = toYaml(file);
      new k8s.KubeConfigMap(this, 'scrape-configs', {
        metadata: { name: `${name}-scrape-configs`, namespace: ns, labels },
        data: { [PROMETHEUS_SCRAPE_CONFIGS_FILE]: this.configYaml, [PROMETHEUS_ADDITIONAL_SCRAPE_CONFIGS_FILE]: toYaml(file.scrape_configs) },
      });
      addRules();
      addPrometheusRule();
      return;
    }
    this.url = `http://${name}.${ns}.svc.${clusterDomain}:${PROMETHEUS_PORT}`;

    // Pod discovery reads pods; the kubelet jobs discover nodes and read nodes/metrics.
    const identity = new PodReader(this, 'identity', { name, namespace: ns, labels, nodeMetrics: kubelet.enabled });

    this.configYaml = toYaml(renderKubernetesPrometheusConfig(p, { alertmanagers: props.alertmanagers ?? [], ...scrapeOptions }));
    const configData = { 'prometheus.yml': this.configYaml };
    const config = new k8s.KubeConfigMap(this, 'config', {
      metadata: { name: `${name}-config`, namespace: ns, labels },
      data: configData,
    });
    const rules = addRules();
    const pvc = new k8s.KubePersistentVolumeClaim(this, 'data', {
      metadata: { name: `${name}-data`, namespace: ns, labels },
      spec: pvcSpec(p.storage.size, p.storage.storageClassName),
    });

    const deployment = new k8s.KubeDeployment(this, 'deployment', {
      metadata: { name, namespace: ns, labels },
      // One pod owns the ReadWriteOnce volume at a time.
      spec: singlePodDeploymentSpec(name, labels, {
        ...scrapeAnnotations(PROMETHEUS_PORT),
        'checksum/config': configChecksum({ ...configData, ...rulesData }),
      }, {
        serviceAccountName: identity.serviceAccountName,
        automountServiceAccountToken: true,
        securityContext: restrictedPodSecurity(PROMETHEUS_UID),
        terminationGracePeriodSeconds: 60,
        containers: [{
          name,
          image: `${p.image.repository}:${p.image.tag}`,
          imagePullPolicy: p.image.pullPolicy,
          args: prometheusFlags(p),
          ports: [{ name: 'http', containerPort: PROMETHEUS_PORT, protocol: 'TCP' }],
          readinessProbe: httpProbe(PROMETHEUS_READY_PATH, 'http', { periodSeconds: 5 }),
          livenessProbe: httpProbe(PROMETHEUS_HEALTHY_PATH, 'http', { initialDelaySeconds: 30, periodSeconds: 15, failureThreshold: 4 }),
          resources: resourceRequirements(p.resources),
          securityContext: restrictedContainerSecurity(),
          volumeMounts: [
            { name: 'config', mountPath: PROMETHEUS_CONFIG_FILE, subPath: 'prometheus.yml', readOnly: true },
            { name: 'rules', mountPath: PROMETHEUS_RULES_DIR, readOnly: true },
            { name: 'data', mountPath: PROMETHEUS_DATA_DIR },
          ],
        }],
        volumes: [
          { name: 'config', configMap: { name: config.name } },
          { name: 'rules', configMap: { name: rules.name } },
          { name: 'data', persistentVolumeClaim: { claimName: pvc.name } },
        ],
      }),
    });
    applyPodSettingsTo(deployment, p);

    new k8s.KubeService(this, 'service', {
      metadata: { name, namespace: ns, labels },
      spec: {
        type: 'ClusterIP',
        selector: selectorLabels(name),
        ports: [{ name: 'http', port: PROMETHEUS_PORT, targetPort: k8s.IntOrString.fromString('http'), protocol: 'TCP' }],
      },
    });
    addPrometheusRule();

  }
}
