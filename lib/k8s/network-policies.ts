/**
 * The stack's NetworkPolicies (`networkPolicies.enabled`), from the model in lib/network-access.ts: a default deny
 * of ingress to the stack's pods in each of its namespaces, and one policy per component that lets its clients
 * in on its port. Ingress only; lib/network-access.ts says why, and what a NetworkPolicy cannot cover.
 */
import { k8s } from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { StackConfig } from '../config';
import { DEFAULT_DENY_POLICY_NAME, defaultDenyNamespaces, IngressPeer, IngressPolicy, ingressPolicies } from '../network-access';
import { APP_IMAGE } from '../components/app';
import { componentLabels, NAME_LABEL, PART_OF, selectorLabels } from './labels';

/**
 * The app.kubernetes.io/name of the default denies; their version is the stack's (package.json's, which the demo
 * app's image tag and the chart's appVersion equal: test/helm-generated.test.ts).
 */
export const DEFAULT_DENY_LABEL_NAME = 'network-policy';

/** The label the API server puts on every namespace (Kubernetes 1.21+), which a namespaceSelector names it by. */
export const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';

/** A peer of an ingress rule: the client's pods in the client's namespace (a client not of the stack by its name alone). */
export function peerOf(p: IngressPeer): k8s.NetworkPolicyPeer {
  return {
    namespaceSelector: { matchLabels: { [NAMESPACE_NAME_LABEL]: p.namespace } },
    podSelector: { matchLabels: p.external ? { [NAME_LABEL]: p.name } : selectorLabels(p.name) },
  };
}

/** A component's ingress policy: its pods, its TCP port, its clients (no `from` = anyone), then its own pods on their peer ports. */
export function ingressPolicySpec(p: IngressPolicy): k8s.NetworkPolicySpec {
  const rule: k8s.NetworkPolicyIngressRule = {
    ...(p.from === 'anyone' ? {} : { from: p.from.map(peerOf) }),
    ports: [{ protocol: 'TCP', port: k8s.IntOrString.fromNumber(p.port) }],
  };
  const peers: k8s.NetworkPolicyIngressRule[] = p.peerPorts?.length
    ? [{ from: [{ podSelector: { matchLabels: selectorLabels(p.name) } }], ports: p.peerPorts.map((x) => ({ protocol: x.protocol, port: k8s.IntOrString.fromNumber(x.port) })) }]
    : [];
  return {
    podSelector: { matchLabels: selectorLabels(p.name) },
    policyTypes: ['Ingress'],
    // No client deployed: no rule for them. (A rule with an empty `from` would let anyone in.)
    ingress: [...(p.from !== 'anyone' && p.from.length === 0 ? [] : [rule]), ...peers],
  };
}

/** Every NetworkPolicy of the stack: the default denies first, then each component's, in the stack's order. */
export class StackNetworkPolicies extends Construct {
  constructor(scope: Construct, id: string, props: { readonly config: StackConfig }) {
    super(scope, id);
    const c = props.config;
    if (!c.networkPolicies.enabled) return;
    for (const namespace of defaultDenyNamespaces(c)) {
      new k8s.KubeNetworkPolicy(this, `default-deny-${namespace}`, {
        metadata: {
          name: DEFAULT_DENY_POLICY_NAME,
          namespace,
          labels: componentLabels(DEFAULT_DENY_LABEL_NAME, 'network-policy', { ...APP_IMAGE, pullPolicy: 'IfNotPresent' }),
        },
        // The stack's pods only: a namespace's other pods keep their traffic.
        spec: { podSelector: { matchLabels: { 'app.kubernetes.io/part-of': PART_OF } }, policyTypes: ['Ingress'] },
      });
    }
    for (const p of ingressPolicies(c)) {
      new k8s.KubeNetworkPolicy(this, `${p.namespace}-${p.name}`, {
        metadata: { name: p.name, namespace: p.namespace, labels: componentLabels(p.name, p.component, p.image) },
        spec: ingressPolicySpec(p),
      });
    }
  }
}
