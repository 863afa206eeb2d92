/**
 * ObservabilityStack: the whole stack as cdk8s charts: a namespaces chart first (so one
 * `kubectl apply -f dist/` pass works on a fresh cluster), then the stack itself.
 */
import { KubeStateMetrics } from './kube-state-metrics';
import { NodeExporter } from './node-exporter';
import { Chart } from 'cdk8s';
import { Construct } from 'constructs';
import { parseStackConfig, StackConfig, StackInput } from '../config';
import { DemoApp } from './app';
import { Grafana } from './grafana';
import { Loki } from './loki';
import { externalLokiEndpoint, LokiEndpoint, shipsLogs } from '../components/loki';
import { NamespacesChart, stackNamespaces } from './namespaces';
import { applyCommonLabels } from './pod-settings';
import { Prometheus } from './prometheus';
import { Promtail } from './promtail';
import { Alertmanager, alertmanagerAddress } from './alertmanager';
import { Alloy } from './alloy';
import { StackNetworkPolicies } from './network-policies';

export interface ObservabilityStackProps {
  /** Settings; anything left out takes its documented default (lib/config.ts). @default {} */
  readonly config?: StackInput;
}

/**
 * The stack's chart. It validates the settings before creating anything, and adds a sibling chart
 * `<id>-namespaces` that it depends on, so the namespaces are synthesized first
 * (`0000-<id>-namespaces.k8s.yaml`, then `0001-<id>.k8s.yaml`).
 */
export class ObservabilityStack extends Chart {
  /** The resolved, validated settings. */
  public readonly config: StackConfig;
  public readonly namespaces: NamespacesChart;
  /** Prometheus; with prometheus.enabled false, only the scrape jobs and rules a Prometheus of the user's loads. */
  public readonly prometheus: Prometheus;
  public readonly app?: DemoApp;
  /** Loki, when `loki.enabled`. */
  public readonly loki?: Loki;
  /** The node log agent shipping pod logs to Loki (the stack's, or `loki.external`'s): Promtail or Alloy (`logAgent.kind`). */
  public readonly logAgent?: Promtail | Alloy;
  /** kube-state-metrics, when `kubeStateMetrics.enabled`. */
  public readonly kubeStateMetrics?: KubeStateMetrics;
  /** node-exporter on every node, when `nodeExporter.enabled`. */
  public readonly nodeExporter?: NodeExporter;
  /** Alertmanager, when `alertmanager.enabled`. */
  public readonly alertmanager?: Alertmanager;
  /** Grafana, when `grafana.enabled`. */
  public readonly grafana?: Grafana;

  constructor(scope: Construct, id: string, props: ObservabilityStackProps = {}) {
    const config = parseStackConfig(props.config ?? {});
    super(scope, id, { disableResourceNameHashes: true });
    this.config = config;
    this.namespaces = new NamespacesChart(scope, `${id}-namespaces`, { namespaces: stackNamespaces(config), disableResourceNameHashes: true });
    this.addDependency(this.namespaces);
    const { namespace, clusterDomain } = config;
    const alertmanagers = config.alertmanager.enabled ? [alertmanagerAddress(namespace, clusterDomain)] : [];
    this.prometheus = new Prometheus(this, 'prometheus', { namespace, clusterDomain, settings: config.prometheus, alertmanagers, kubelet: config.kubelet, kubeStateMetrics: config.kubeStateMetrics.enabled,
      ...(config.nodeExporter.enabled ? { nodeExporterNamespace: config.logAgent.namespace } : {}),
    });
    if (config.kubeStateMetrics.enabled) {
      this.kubeStateMetrics = new KubeStateMetrics(this, 'kube-state-metrics', { namespace, settings: config.kubeStateMetrics });
    }
    if (config.nodeExporter.enabled) {
      this.nodeExporter = new NodeExporter(this, 'node-exporter', { namespace: config.logAgent.namespace, settings: config.nodeExporter });
    }
    if (config.app.enabled) {
      this.app = new DemoApp(this, 'app', { settings: config.app, clusterDomain, scrapeIntervalSeconds: config.prometheus.scrapeIntervalSeconds });
    }
    if (config.loki.enabled) {
      this.loki = new Loki(this, 'loki', { namespace, clusterDomain, settings: config.loki });
    }
    // The Loki the agent ships to and Grafana reads: the stack's, or one the user runs.
    const loki: LokiEndpoint | undefined = this.loki ?? (shipsLogs(config.loki) ? externalLokiEndpoint(config.loki.external) : undefined);
    if (loki) this.logAgent = addLogAgent(this, config, loki);
    if (config.alertmanager.enabled) {
      this.alertmanager = new Alertmanager(this, 'alertmanager', { namespace, clusterDomain, settings: config.alertmanager });
    }
    if (config.grafana.enabled) {
      this.grafana = new Grafana(this, 'grafana', { namespace, clusterDomain, settings: config.grafana, prometheus: this.prometheus, loki, lokiMetrics: this.loki !== undefined, alertmanager: this.alertmanager,
        // The Containers dashboard's kube-state-metrics part needs the stack's rules too (the `app` rule).
        kubelet: config.kubelet.enabled, kubeStateMetrics: config.kubeStateMetrics.enabled && config.prometheus.alertRules, nodeExporter: config.nodeExporter.enabled,
      });
    }
    // Who may open which port (lib/network-access.ts), when networkPolicies.enabled.
    new StackNetworkPolicies(this, 'network-policies', { config });
    // The labels every object carries, applied once to whatever the constructs made.
    applyCommonLabels(this, config.commonLabels);
    applyCommonLabels(this.namespaces, config.commonLabels);
  }
}

/**
 * The log agent switch: `logAgent.kind` picks the construct that tails /var/log/pods on every node and pushes
 * to Loki. Each agent takes the same inputs (the Loki it pushes to, its namespace and settings) and uses the same relabel rules
 * for the label contract (lib/render/relabel.ts).
 */
function addLogAgent(scope: Construct, config: StackConfig, loki: LokiEndpoint): Promtail | Alloy {
  const namespace = config.logAgent.namespace;
  switch (config.logAgent.kind) {
    case 'promtail':
      return new Promtail(scope, 'promtail', { loki, namespace, settings: config.logAgent.promtail, podSettings: config.logAgent, push: config.logAgent.push });
    case 'alloy':
      return new Alloy(scope, 'alloy', { loki, namespace, settings: config.logAgent.alloy, podSettings: config.logAgent, push: config.logAgent.push });
  }
}
