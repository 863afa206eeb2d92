/**
 * The NetworkPolicy evaluator's own tests: each rule of the semantics it implements (network-policy.ts), with the
 * examples of the Kubernetes documentation's NetworkPolicy page where it has one.
 */
import { allowed, Cluster, External, inCidr, matchesSelector, NetworkPolicyObject, Pod } from './network-policy';

const ns = (name: string, labels: Record<string, string> = {}) => ({ name, labels: { 'kubernetes.io/metadata.name': name, ...labels } });
const pod = (name: string, namespace: string, labels: Record<string, string>, ip: string, extra: Partial<Pod> = {}): Pod => ({ name, namespace, labels, ip, ...extra });
const policy = (name: string, namespace: string, spec: NetworkPolicyObject['spec']): NetworkPolicyObject => ({ metadata: { name, namespace }, spec });

const namespaces = [ns('default'), ns('myproject', { project: 'myproject' }), ns('other')];
const db = pod('db', 'default', { role: 'db' }, '10.0.0.10', { ports: [{ name: 'postgres', containerPort: 5432 }] });
const frontend = pod('frontend', 'default', { role: 'frontend' }, '10.0.0.11');
const frontendElsewhere = pod('frontend-elsewhere', 'other', { role: 'frontend' }, '10.0.1.11');
const inProject = pod('worker', 'myproject', { role: 'worker' }, '10.0.2.12');
const outside: External = { ip: '203.0.113.7' };
const cluster = (...policies: NetworkPolicyObject[]): Cluster => ({ namespaces, policies });

describe('label selectors', () => {
  test('matchLabels: every pair must match; {} matches everything; no selector matches nothing', () => {
    expect(matchesSelector({ matchLabels: { a: '1', b: '2' } }, { a: '1', b: '2', c: '3' })).toBe(true);
    expect(matchesSelector({ matchLabels: { a: '1', b: '2' } }, { a: '1' })).toBe(false);
    expect(matchesSelector({}, {})).toBe(true);
    expect(matchesSelector(undefined, { a: '1' })).toBe(false);
  });

  test('matchExpressions: In, NotIn, Exists, DoesNotExist, all of them', () => {
    expect(matchesSelector({ matchExpressions: [{ key: 'a', operator: 'In', values: ['1', '2'] }] }, { a: '2' })).toBe(true);
    expect(matchesSelector({ matchExpressions: [{ key: 'a', operator: 'In', values: ['1'] }] }, {})).toBe(false);
    expect(matchesSelector({ matchExpressions: [{ key: 'a', operator: 'NotIn', values: ['1'] }] }, {})).toBe(true);
    expect(matchesSelector({ matchExpressions: [{ key: 'a', operator: 'NotIn', values: ['1'] }] }, { a: '1' })).toBe(false);
    expect(matchesSelector({ matchExpressions: [{ key: 'a', operator: 'Exists' }] }, { a: '' })).toBe(true);
    expect(matchesSelector({ matchExpressions: [{ key: 'a', operator: 'DoesNotExist' }] }, { a: '' })).toBe(false);
    expect(matchesSelector({ matchLabels: { b: '1' }, matchExpressions: [{ key: 'a', operator: 'Exists' }] }, { a: 'x' })).toBe(false);
  });
});

test('CIDRs, with their boundaries', () => {
  expect(inCidr('172.17.1.5', '172.17.0.0/16')).toBe(true);
  expect(inCidr('172.18.0.0', '172.17.0.0/16')).toBe(false);
  expect(inCidr('10.0.0.1', '0.0.0.0/0')).toBe(true);
  expect(inCidr('10.0.0.1', '10.0.0.1/32')).toBe(true);
  expect(inCidr('10.0.0.2', '10.0.0.1/32')).toBe(false);
});

describe('isolation', () => {
  test('no policy: every connection opens', () => {
    expect(allowed(cluster(), outside, db, 5432)).toBe(true);
    expect(allowed(cluster(), frontendElsewhere, db, 1)).toBe(true);
  });

  test('a default deny ({} selector, Ingress) isolates every pod of its namespace and only those', () => {
    const c = cluster(policy('deny', 'default', { podSelector: {}, policyTypes: ['Ingress'] }));
    expect(allowed(c, frontend, db, 5432)).toBe(false);
    expect(allowed(c, db, inProject, 80)).toBe(true);
  });

  test('policyTypes absent: Ingress always, so a policy with only egress rules also denies ingress', () => {
    const c = cluster(policy('egress-only', 'default', { podSelector: { matchLabels: { role: 'db' } }, egress: [{}] }));
    expect(allowed(c, frontend, db, 5432)).toBe(false);
    // Its egress rule {} allows everything out.
    expect(allowed(c, db, inProject, 80)).toBe(true);
  });

  test('policyTypes empty, or an empty egress list: Ingress only, as the API server defaults them', () => {
    const emptyTypes = cluster(policy('t', 'default', { podSelector: { matchLabels: { role: 'frontend' } }, policyTypes: [], egress: [] }));
    expect(allowed(emptyTypes, frontend, inProject, 80)).toBe(true);
    expect(allowed(emptyTypes, db, frontend, 80)).toBe(false);
  });

  test('no podSelector: every pod of the namespace', () => {
    const c = cluster({ metadata: { name: 'all', namespace: 'default' }, spec: { policyTypes: ['Ingress'] } });
    expect(allowed(c, inProject, db, 5432)).toBe(false);
    expect(allowed(c, inProject, frontend, 80)).toBe(false);
  });

  test('a pod\'s connection to itself is always allowed', () => {
    const c = cluster(policy('deny', 'default', { podSelector: {}, policyTypes: ['Ingress', 'Egress'] }));
    expect(allowed(c, db, db, 5432)).toBe(true);
    expect(allowed(c, frontend, db, 5432)).toBe(false);
  });

  test('peers the API server refuses are errors, not guesses', () => {
    const empty = cluster(policy('p', 'default', { podSelector: {}, ingress: [{ from: [{}] }] }));
    expect(() => allowed(empty, frontend, db, 1)).toThrow('needs podSelector, namespaceSelector or ipBlock');
    const both = cluster(policy('p', 'default', { podSelector: {}, ingress: [{ from: [{ ipBlock: { cidr: '10.0.0.0/8' }, podSelector: {} }] }] }));
    expect(() => allowed(both, frontend, db, 1)).toThrow('ipBlock may not have a selector too');
  });

  test('an explicit empty ingress list denies all; policies add up, none takes away', () => {
    const deny = policy('deny', 'default', { podSelector: { matchLabels: { role: 'db' } }, policyTypes: ['Ingress'], ingress: [] });
    const allowFrontend = policy('allow', 'default', { podSelector: { matchLabels: { role: 'db' } }, ingress: [{ from: [{ podSelector: { matchLabels: { role: 'frontend' } } }] }] });
    expect(allowed(cluster(deny), frontend, db, 5432)).toBe(false);
    expect(allowed(cluster(deny, allowFrontend), frontend, db, 5432)).toBe(true);
  });

  test('egress isolation of the sender stops a connection the receiver would accept', () => {
    const c = cluster(policy('no-egress', 'default', { podSelector: { matchLabels: { role: 'frontend' } }, policyTypes: ['Egress'] }));
    expect(allowed(c, frontend, inProject, 80)).toBe(false);
    expect(allowed(c, db, inProject, 80)).toBe(true);
  });

  test('egress rules: a peer and a port of the receiver', () => {
    const c = cluster(policy('to-db', 'default', {
      podSelector: { matchLabels: { role: 'frontend' } }, policyTypes: ['Egress'],
      egress: [{ to: [{ podSelector: { matchLabels: { role: 'db' } } }], ports: [{ port: 'postgres' }] }],
    }));
    expect(allowed(c, frontend, db, 5432)).toBe(true);
    expect(allowed(c, frontend, db, 5433)).toBe(false);
    expect(allowed(c, frontend, inProject, 5432)).toBe(false);
  });
});

describe('peers (the documentation\'s example: the db pods, from an ipBlock, a namespace and a pod selector)', () => {
  const docs = policy('test-network-policy', 'default', {
    podSelector: { matchLabels: { role: 'db' } },
    policyTypes: ['Ingress'],
    ingress: [{
      from: [
        { ipBlock: { cidr: '172.17.0.0/16', except: ['172.17.1.0/24'] } },
        { namespaceSelector: { matchLabels: { project: 'myproject' } } },
        { podSelector: { matchLabels: { role: 'frontend' } } },
      ],
      ports: [{ protocol: 'TCP', port: 6379 }],
    }],
  });
  const c = cluster(docs);

  test('podSelector alone: those pods in the policy\'s namespace, not in another', () => {
    expect(allowed(c, frontend, db, 6379)).toBe(true);
    expect(allowed(c, frontendElsewhere, db, 6379)).toBe(false);
  });

  test('namespaceSelector alone: every pod of the namespaces it selects', () => {
    expect(allowed(c, inProject, db, 6379)).toBe(true);
  });

  test('ipBlock: the CIDR less its exceptions', () => {
    expect(allowed(c, { ip: '172.17.0.9' }, db, 6379)).toBe(true);
    expect(allowed(c, { ip: '172.17.1.9' }, db, 6379)).toBe(false);
    expect(allowed(c, outside, db, 6379)).toBe(false);
  });

  test('only the listed port and protocol', () => {
    expect(allowed(c, frontend, db, 6380)).toBe(false);
    expect(allowed(c, frontend, db, 6379, 'UDP')).toBe(false);
  });

  test('namespaceSelector and podSelector in one peer: both must hold; in two peers: either', () => {
    const and = cluster(policy('and', 'default', { podSelector: { matchLabels: { role: 'db' } }, ingress: [{ from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'other' } }, podSelector: { matchLabels: { role: 'frontend' } } }] }] }));
    const or = cluster(policy('or', 'default', { podSelector: { matchLabels: { role: 'db' } }, ingress: [{ from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'other' } } }, { podSelector: { matchLabels: { role: 'frontend' } } }] }] }));
    const otherPod = pod('x', 'other', { role: 'x' }, '10.0.1.12');
    expect(allowed(and, frontendElsewhere, db, 1)).toBe(true);
    expect(allowed(and, otherPod, db, 1)).toBe(false);
    expect(allowed(and, frontend, db, 1)).toBe(false);
    expect(allowed(or, otherPod, db, 1)).toBe(true);
    expect(allowed(or, frontend, db, 1)).toBe(true);
  });

  test('no `from` (or an empty one): every source, inside the cluster or out', () => {
    const open = cluster(policy('open', 'default', { podSelector: { matchLabels: { role: 'db' } }, ingress: [{ ports: [{ port: 5432 }] }] }));
    expect(allowed(open, outside, db, 5432)).toBe(true);
    expect(allowed(open, frontendElsewhere, db, 5432)).toBe(true);
    expect(allowed(open, frontendElsewhere, db, 5433)).toBe(false);
    const empty = cluster(policy('empty', 'default', { podSelector: { matchLabels: { role: 'db' } }, ingress: [{ from: [] }] }));
    expect(allowed(empty, outside, db, 1)).toBe(true);
  });
});

describe('ports', () => {
  const rule = (ports: any[]) => cluster(policy('p', 'default', { podSelector: { matchLabels: { role: 'db' } }, ingress: [{ ports }] }));

  test('a named port is the receiving container\'s port of that name', () => {
    expect(allowed(rule([{ port: 'postgres' }]), frontend, db, 5432)).toBe(true);
    expect(allowed(rule([{ port: 'postgres' }]), frontend, db, 5433)).toBe(false);
    expect(allowed(rule([{ port: 'http' }]), frontend, db, 5432)).toBe(false);
  });

  test('endPort makes a range, both ends included; a port entry without a port is every port of its protocol', () => {
    expect(allowed(rule([{ port: 32000, endPort: 32768 }]), frontend, db, 32768)).toBe(true);
    expect(allowed(rule([{ port: 32000, endPort: 32768 }]), frontend, db, 32769)).toBe(false);
    expect(allowed(rule([{ protocol: 'UDP' }]), frontend, db, 53, 'UDP')).toBe(true);
    expect(allowed(rule([{ protocol: 'UDP' }]), frontend, db, 53, 'TCP')).toBe(false);
  });
});

describe('pods on the host\'s network', () => {
  const hostPod = pod('node-exporter', 'default', { role: 'exporter' }, '172.18.0.2', { hostNetwork: true });
  const deny = policy('deny', 'default', { podSelector: {}, policyTypes: ['Ingress'] });

  test('as receivers: no policy applies, every connection opens', () => {
    expect(allowed(cluster(deny), frontendElsewhere, hostPod, 9100)).toBe(true);
  });

  test('as senders: their node\'s address, which pod and namespace selectors never match and an ipBlock does', () => {
    const bySelector = cluster(policy('p', 'default', { podSelector: { matchLabels: { role: 'db' } }, ingress: [{ from: [{ podSelector: { matchLabels: { role: 'exporter' } } }, { namespaceSelector: {} }] }] }));
    expect(allowed(bySelector, hostPod, db, 5432)).toBe(false);
    expect(allowed(bySelector, frontendElsewhere, db, 5432)).toBe(true);
    const byAddress = cluster(policy('p', 'default', { podSelector: { matchLabels: { role: 'db' } }, ingress: [{ from: [{ ipBlock: { cidr: '172.18.0.0/16' } }] }] }));
    expect(allowed(byAddress, hostPod, db, 5432)).toBe(true);
  });
});
