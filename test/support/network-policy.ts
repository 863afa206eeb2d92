/**
 * A NetworkPolicy evaluator (networking.k8s.io/v1), for tests: may a connection from one endpoint to a pod's TCP or
 * UDP port open, given a cluster's policies? No maintained JavaScript library does this (the analysers that exist
 * are Go programs: np-guard's netpol-analyzer, Cyclonus), so it is written here from the API's documented
 * semantics, each rule with its own test (network-policy.test.ts):
 *
 * - A policy applies to the pods of its namespace its `podSelector` selects ({} or none = all of them).
 * - `policyTypes` absent or empty: Ingress always, and Egress when the policy has egress rules (the API server's
 *   defaulting, pkg/apis/networking/v1/defaults.go: an empty `egress` list does not count).
 * - A pod's connections to its own address never leave its network namespace: always allowed.
 * - A pod no Ingress policy applies to accepts every connection; one that some policy applies to accepts only
 *   what some rule of some such policy allows (policies add up, none takes away). The same for Egress, on the
 *   sending pod. A connection opens when the sender's egress and the receiver's ingress both allow it.
 * - A rule allows a connection when one of its peers matches the other end (no `from`/`to`, or an empty list = every
 *   source) and one of its ports matches (no `ports` = every port). A port matches on protocol (default TCP) and
 *   number, or a range up to `endPort`, or a name that the receiving pod's container ports give that number; a
 *   port entry with no `port` matches every port of its protocol.
 * - A peer: `podSelector` alone = those pods in the policy's namespace; `namespaceSelector` alone = every pod of
 *   those namespaces; both = those pods in those namespaces; `ipBlock` = addresses in the CIDR and not in `except`.
 *   Selectors: matchLabels and matchExpressions (In, NotIn, Exists, DoesNotExist), all of them must hold. A peer
 *   with none of the three, or an ipBlock beside a selector, is refused by the API server: an error here too.
 * - Pods on the host's network are not covered: as receivers they accept everything (the docs leave it undefined;
 *   plugins do not filter the host's interfaces), and as senders they are their node's address, which only an
 *   ipBlock (or an empty peer list) matches. Connections from a pod's own node (the kubelet's probes) are always
 *   allowed and are not part of what this evaluates.
 *
 * Source: https://kubernetes.io/docs/concepts/services-networking/network-policies/ and the NetworkPolicySpec
 * field descriptions in the Kubernetes OpenAPI (../shared).
 */

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: Array<{ key: string; operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist'; values?: string[] }>;
}

export interface NetworkPolicyObject {
  metadata: { name: string; namespace: string };
  spec: {
    podSelector?: LabelSelector;
    policyTypes?: Array<'Ingress' | 'Egress'>;
    ingress?: Array<{ from?: Peer[]; ports?: PolicyPort[] }>;
    egress?: Array<{ to?: Peer[]; ports?: PolicyPort[] }>;
  };
}

interface Peer { podSelector?: LabelSelector; namespaceSelector?: LabelSelector; ipBlock?: { cidr: string; except?: string[] } }
interface PolicyPort { protocol?: 'TCP' | 'UDP' | 'SCTP'; port?: number | string; endPort?: number }

export interface Pod {
  readonly name: string;
  readonly namespace: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly ip: string;
  readonly hostNetwork?: boolean;
  /** Its containers' ports, for named ports in rules. */
  readonly ports?: ReadonlyArray<{ readonly name?: string; readonly containerPort: number; readonly protocol?: string }>;
}

/** An endpoint outside every pod network: a person's machine, the internet, a node. */
export interface External { readonly ip: string }

export interface Cluster {
  readonly namespaces: ReadonlyArray<{ readonly name: string; readonly labels: Readonly<Record<string, string>> }>;
  readonly policies: readonly NetworkPolicyObject[];
}

export function matchesSelector(selector: LabelSelector | undefined, labels: Readonly<Record<string, string>>): boolean {
  if (!selector) return false;
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of selector.matchExpressions ?? []) {
    const has = e.key in labels;
    switch (e.operator) {
      case 'In': if (!has || !(e.values ?? []).includes(labels[e.key])) return false; break;
      case 'NotIn': if (has && (e.values ?? []).includes(labels[e.key])) return false; break;
      case 'Exists': if (!has) return false; break;
      case 'DoesNotExist': if (has) return false; break;
      default: throw new Error(`unknown selector operator ${(e as { operator: string }).operator}`);
    }
  }
  return true;
}

function ipv4(ip: string): number {
  const parts = ip.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) throw new Error(`not an IPv4 address: ${ip}`);
  return parts.reduce((a, p) => a * 256 + p, 0);
}

export function inCidr(ip: string, cidr: string): boolean {
  const [base, bits] = cidr.split('/');
  const n = Number(bits);
  const size = 2 ** (32 - n);
  return Math.floor(ipv4(ip) / size) === Math.floor(ipv4(base) / size);
}

const isPod = (e: Pod | External): e is Pod => 'namespace' in e;

function policyTypes(p: NetworkPolicyObject): Array<'Ingress' | 'Egress'> {
  if (p.spec.policyTypes && p.spec.policyTypes.length > 0) return p.spec.policyTypes;
  return (p.spec.egress ?? []).length > 0 ? ['Ingress', 'Egress'] : ['Ingress'];
}

function namespaceLabels(cluster: Cluster, name: string): Readonly<Record<string, string>> {
  const ns = cluster.namespaces.find((n) => n.name === name);
  if (!ns) throw new Error(`namespace ${name} is not in the cluster`);
  return ns.labels;
}

/** Does a rule's peer, in a policy of `policyNamespace`, match the other end of the connection? */
function peerMatches(cluster: Cluster, peer: Peer, policyNamespace: string, other: Pod | External): boolean {
  if (!peer.ipBlock && !peer.podSelector && !peer.namespaceSelector) throw new Error('a NetworkPolicyPeer needs podSelector, namespaceSelector or ipBlock (the API server refuses an empty one)');
  if (peer.ipBlock && (peer.podSelector || peer.namespaceSelector)) throw new Error('a NetworkPolicyPeer with ipBlock may not have a selector too (the API server refuses it)');
  if (peer.ipBlock) {
    // A pod on the pod network is matched by its address too, as plugins that filter by address do.
    if (!inCidr(other.ip, peer.ipBlock.cidr)) return false;
    return !(peer.ipBlock.except ?? []).some((c) => inCidr(other.ip, c));
  }
  if (!isPod(other) || other.hostNetwork) return false;
  if (peer.namespaceSelector) {
    if (!matchesSelector(peer.namespaceSelector, namespaceLabels(cluster, other.namespace))) return false;
  } else if (other.namespace !== policyNamespace) {
    return false;
  }
  return peer.podSelector ? matchesSelector(peer.podSelector, other.labels) : true;
}

function portMatches(ports: PolicyPort[] | undefined, receiver: Pod, port: number, protocol: string): boolean {
  if (!ports || ports.length === 0) return true;
  return ports.some((p) => {
    if ((p.protocol ?? 'TCP') !== protocol) return false;
    if (p.port === undefined) return true;
    if (typeof p.port === 'string') {
      return (receiver.ports ?? []).some((c) => c.name === p.port && c.containerPort === port && (c.protocol ?? 'TCP') === protocol);
    }
    return p.endPort !== undefined ? port >= p.port && port <= p.endPort : port === p.port;
  });
}

function anyRuleAllows(cluster: Cluster, policies: NetworkPolicyObject[], rules: (p: NetworkPolicyObject) => Array<{ peers?: Peer[]; ports?: PolicyPort[] }>,
  other: Pod | External, receiver: Pod, port: number, protocol: string): boolean {
  return policies.some((p) => rules(p).some((r) => (!r.peers || r.peers.length === 0 || r.peers.some((peer) => peerMatches(cluster, peer, p.metadata.namespace, other)))
    && portMatches(r.ports, receiver, port, protocol)));
}

/** The policies of a type that apply to a pod (none for a pod on the host's network). */
function applying(cluster: Cluster, pod: Pod, type: 'Ingress' | 'Egress'): NetworkPolicyObject[] {
  if (pod.hostNetwork) return [];
  return cluster.policies.filter((p) => p.metadata.namespace === pod.namespace && policyTypes(p).includes(type) && matchesSelector(p.spec.podSelector ?? {}, pod.labels));
}

/** May `from` open a connection to `to`'s `port`? */
export function allowed(cluster: Cluster, from: Pod | External, to: Pod, port: number, protocol: 'TCP' | 'UDP' | 'SCTP' = 'TCP'): boolean {
  if (isPod(from) && from.namespace === to.namespace && from.name === to.name) return true;
  if (isPod(from)) {
    const egress = applying(cluster, from, 'Egress');
    if (egress.length > 0 && !anyRuleAllows(cluster, egress, (p) => (p.spec.egress ?? []).map((r) => ({ peers: r.to, ports: r.ports })), to, to, port, protocol)) return false;
  }
  const ingress = applying(cluster, to, 'Ingress');
  return ingress.length === 0 || anyRuleAllows(cluster, ingress, (p) => (p.spec.ingress ?? []).map((r) => ({ peers: r.from, ports: r.ports })), from, to, port, protocol);
}
