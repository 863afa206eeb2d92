/**
 * The identity of a component that reads the cluster's objects: a ServiceAccount, a ClusterRole with exactly
 * the rules given, and the binding between them. PodReader is the one of the components that discover pods
 * (Prometheus, the log agent): get, list and watch pods in every namespace and, for Prometheus when it scrapes
 * the kubelets, get, list and watch nodes and get nodes/metrics (every /metrics path of the kubelet); nothing
 * else. Never nodes/proxy, whose get lets its holder exec into any container of the node.
 */
import { k8s } from 'cdk8s-plus-27';
import { Construct } from 'constructs';

export interface ClusterReaderProps {
  /** Name of the ServiceAccount; the cluster-wide objects are named `<namespace>-<name>`. */
  readonly name: string;
  /** Namespace of the ServiceAccount. */
  readonly namespace: string;
  /** Labels of all three objects. */
  readonly labels: Record<string, string>;
  /** The ClusterRole's rules. */
  readonly rules: k8s.PolicyRule[];
}

export class ClusterReader extends Construct {
  /** The ServiceAccount to run the component's pods as. */
  public readonly serviceAccountName: string;

  constructor(scope: Construct, id: string, props: ClusterReaderProps) {
    super(scope, id);
    const { name, namespace, labels } = props;
    const serviceAccount = new k8s.KubeServiceAccount(this, 'service-account', { metadata: { name, namespace, labels } });
    const clusterRole = new k8s.KubeClusterRole(this, 'cluster-role', { metadata: { name: `${namespace}-${name}`, labels }, rules: props.rules });
    new k8s.KubeClusterRoleBinding(this, 'cluster-role-binding', {
      metadata: { name: `${namespace}-${name}`, labels },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: clusterRole.name },
      subjects: [{ kind: 'ServiceAccount', name: serviceAccount.name, namespace }],
    });
    this.serviceAccountName = serviceAccount.name;
  }
}

export interface PodReaderProps extends Omit<ClusterReaderProps, 'rules'> {
  /** Also discover nodes and read the kubelets' metrics. @default false */
  readonly nodeMetrics?: boolean;
}

/** The ClusterRole's rules: pods, and with `nodeMetrics` nodes and nodes/metrics. */
export function podReaderRules(nodeMetrics: boolean): k8s.PolicyRule[] {
  return [
    { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch'] },
    ...(nodeMetrics ? [
      { apiGroups: [''], resources: ['nodes'], verbs: ['get', 'list', 'watch'] },
      { apiGroups: [''], resources: ['nodes/metrics'], verbs: ['get'] },
    ] : []),
  ];
}

export class PodReader extends ClusterReader {
  constructor(scope: Construct, id: string, props: PodReaderProps) {
    super(scope, id, { ...props, rules: podReaderRules(props.nodeMetrics ?? false) });
  }
}
