/**
 * Who may open which port of the stack's pods on Kubernetes: the model of the NetworkPolicies that
 * lib/k8s/network-policies.ts renders and the chart's networkpolicy.yaml templates mirror (`networkPolicies.enabled`).
 *
 * Ingress only, in two layers:
 * - a default deny in each of the stack's namespaces, selecting the stack's own pods (app.kubernetes.io/part-of),
 *   not the namespace's other pods: a user who shares a namespace with the stack (app.namespace set to theirs, a
 *   release installed into an existing namespace) keeps their own pods' traffic as it was;
 * - per component, one policy that lets exactly its clients in on exactly its port (each component's file in
 *   lib/components/ says who they are, as `…_INGRESS_FROM`), and, for a component of several pods that talk to
 *   each other (Loki with loki.replicas above 1, Grafana with grafana.replicas), its own pods on the ports they
 *   use for it.
 *
 * Egress is not restricted, on purpose: Prometheus must reach the API server, every node's kubelet and
 * node-exporter on the node's own address (host network, which no pod or namespace selector can name), and the
 * user's apps in any namespace; Alertmanager its receivers on the internet. Those addresses differ per cluster, so
 * an egress policy would be ipBlocks the user fills in, and a wrong one breaks the stack quietly. (So DNS needs no
 * egress rule either.)
 *
 * Always allowed: connections from the pod's own node (the kubelet's probes), by NetworkPolicy's definition; and
 * what never leaves the pod's network namespace: `kubectl port-forward` (the container runtime connects to the port
 * inside the pod) and a pod's connections to its own address (Prometheus scraping itself). Never covered: pods on the
 * host's network (node-exporter), which a NetworkPolicy cannot select; node-exporter listens on the node's address
 * only, and its port is as reachable as the node's other ports (README, "Network policies").
 */
import { ALERTMANAGER_INGRESS_FROM, ALERTMANAGER_NAME, ALERTMANAGER_PORT } from './components/alertmanager';
import { ALLOY_HTTP_PORT, ALLOY_INGRESS_FROM, ALLOY_NAME } from './components/alloy';
import { APP_INGRESS_FROM } from './components/app';
import { GRAFANA_ALERTING_PORT, GRAFANA_INGRESS_FROM, GRAFANA_NAME, GRAFANA_PORT, grafanaRunsSeveral } from './components/grafana';
import { KUBE_STATE_METRICS_INGRESS_FROM, KUBE_STATE_METRICS_NAME, KUBE_STATE_METRICS_PORT } from './components/kube-state-metrics';
import { LOKI_GRPC_PORT, LOKI_HTTP_PORT, LOKI_INGRESS_FROM, LOKI_MEMBERLIST_PORT, LOKI_NAME, shipsLogs } from './components/loki';
import { PROMETHEUS_INGRESS_FROM, PROMETHEUS_NAME, PROMETHEUS_PORT } from './components/prometheus';
import { PROMTAIL_HTTP_PORT, PROMTAIL_INGRESS_FROM, PROMTAIL_NAME } from './components/promtail';
import type { ImageSettings, StackConfig } from './config';

/** A workload of the stack that opens connections to others. */
export type StackClient = 'prometheus' | 'grafana' | 'logAgent';

/** Who may open a component's port: anyone (people, through a NodePort or an ingress controller), or these clients of the stack. */
export type IngressFrom = 'anyone' | readonly StackClient[];

/**
 * A client resolved to where its pods run: the namespace and the app.kubernetes.io/name of its pods. The user's own
 * Prometheus (prometheus.scraper, when prometheus.enabled is false) is `external`: its pods carry that name but not
 * the stack's part-of label, so they are selected by the name alone.
 */
export interface IngressPeer {
  readonly client: StackClient;
  readonly namespace: string;
  readonly name: string;
  readonly external?: true;
}

/** Who scrapes the stack: its own Prometheus, or the user's (prometheus.scraper) when prometheus.enabled is false, if named. */
export function scraperPeer(c: StackConfig): IngressPeer | undefined {
  if (c.prometheus.enabled) return { client: 'prometheus', namespace: c.namespace, name: PROMETHEUS_NAME };
  const s = c.prometheus.scraper;
  return s.namespace ? { client: 'prometheus', namespace: s.namespace, name: s.name, external: true } : undefined;
}

/** One component's ingress policy: its pods (by name), its port, and who may open it. */
export interface IngressPolicy {
  /** The policy's name, the component's name (`loki`), in its namespace. */
  readonly name: string;
  readonly namespace: string;
  /** The component's app.kubernetes.io/component label and image, for the policy's own labels. */
  readonly component: string;
  readonly image: ImageSettings;
  /** The TCP port the policy opens to its clients. */
  readonly port: number;
  readonly from: 'anyone' | readonly IngressPeer[];
  /** Ports the component's own pods open to each other (several Loki pods: gRPC and gossip; several Grafanas: alerting's gossip); none by default. */
  readonly peerPorts?: ReadonlyArray<{ readonly port: number; readonly protocol: 'TCP' | 'UDP' }>;
}

/** The name of the default-deny policy in each of the stack's namespaces. */
export const DEFAULT_DENY_POLICY_NAME = 'default-deny-ingress';

/** The namespaces holding the stack's pods, each of which gets a default deny (in stackNamespaces' order). */
export function defaultDenyNamespaces(c: StackConfig): string[] {
  const namespaces = [c.namespace];
  if (c.app.enabled && !namespaces.includes(c.app.namespace)) namespaces.push(c.app.namespace);
  if (shipsLogs(c.loki) || c.nodeExporter.enabled) namespaces.push(c.logAgent.namespace);
  return namespaces;
}

/** Every component's ingress policy, for the components the settings deploy (none when networkPolicies.enabled is false). */
export function ingressPolicies(c: StackConfig): IngressPolicy[] {
  if (!c.networkPolicies.enabled) return [];
  const logAgent = c.logAgent.kind === 'alloy' ? ALLOY_NAME : PROMTAIL_NAME;
  const peers: Record<StackClient, IngressPeer | undefined> = {
    prometheus: scraperPeer(c),
    grafana: c.grafana.enabled ? { client: 'grafana', namespace: c.namespace, name: GRAFANA_NAME } : undefined,
    logAgent: shipsLogs(c.loki) ? { client: 'logAgent', namespace: c.logAgent.namespace, name: logAgent } : undefined,
  };
  const resolve = (from: IngressFrom): IngressPolicy['from'] =>
    from === 'anyone' ? 'anyone' : from.flatMap((client) => (peers[client] ? [peers[client]!] : []));
  const policies: IngressPolicy[] = [];
  if (c.prometheus.enabled) {
    policies.push({ name: PROMETHEUS_NAME, namespace: c.namespace, component: 'metrics', image: c.prometheus.image, port: PROMETHEUS_PORT, from: resolve(PROMETHEUS_INGRESS_FROM) });
  }
  if (c.kubeStateMetrics.enabled) {
    policies.push({ name: KUBE_STATE_METRICS_NAME, namespace: c.namespace, component: 'exporter', image: c.kubeStateMetrics.image, port: KUBE_STATE_METRICS_PORT, from: resolve(KUBE_STATE_METRICS_INGRESS_FROM) });
  }
  if (c.app.enabled) {
    policies.push({ name: c.app.name, namespace: c.app.namespace, component: 'application', image: c.app.image, port: c.app.port, from: resolve(APP_INGRESS_FROM) });
  }
  if (c.loki.enabled) {
    policies.push({
      name: LOKI_NAME, namespace: c.namespace, component: 'logs', image: c.loki.image, port: LOKI_HTTP_PORT, from: resolve(LOKI_INGRESS_FROM),
      // Several pods: each one's distributor and querier call the others' ingesters over gRPC, and they gossip the ring.
      ...(c.loki.replicas > 1 ? { peerPorts: [LOKI_GRPC_PORT, LOKI_MEMBERLIST_PORT].map((port) => ({ port, protocol: 'TCP' as const })) } : {}),
    });
  }
  if (shipsLogs(c.loki)) {
    policies.push(c.logAgent.kind === 'alloy'
      ? { name: ALLOY_NAME, namespace: c.logAgent.namespace, component: 'log-agent', image: c.logAgent.alloy.image, port: ALLOY_HTTP_PORT, from: resolve(ALLOY_INGRESS_FROM) }
      : { name: PROMTAIL_NAME, namespace: c.logAgent.namespace, component: 'log-agent', image: c.logAgent.promtail.image, port: PROMTAIL_HTTP_PORT, from: resolve(PROMTAIL_INGRESS_FROM) });
  }
  if (c.alertmanager.enabled) {
    policies.push({ name: ALERTMANAGER_NAME, namespace: c.namespace, component: 'alerting', image: c.alertmanager.image, port: ALERTMANAGER_PORT, from: resolve(ALERTMANAGER_INGRESS_FROM) });
  }
  if (c.grafana.enabled) {
    policies.push({
      name: GRAFANA_NAME, namespace: c.namespace, component: 'dashboards', image: c.grafana.image, port: GRAFANA_PORT, from: resolve(GRAFANA_INGRESS_FROM),
      // Several pods: their Alertmanagers gossip (memberlist, TCP and UDP).
      ...(grafanaRunsSeveral(c.grafana) ? { peerPorts: (['TCP', 'UDP'] as const).map((protocol) => ({ port: GRAFANA_ALERTING_PORT, protocol })) } : {}),
    });
  }
  return policies;
}
