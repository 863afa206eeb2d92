/**
 * The identity of a component that discovers pods (Prometheus, the log agent): a ServiceAccount and a
 * ClusterRole that may get, list and watch pods in every namespace and, for Prometheus when it scrapes the
 * kubelets, get, list and watch nodes and get nodes/metrics (every /metrics path of the kubelet); nothing else.
 * Never nodes/proxy, whose get lets its holder exec into any container of the node.
 */
import { k8s } from 'cdk8s-plus-27';
import { Construct } from 'constructs';

export interface PodReaderProps {
  /** Name of the ServiceAccount; the cluster-wide objects are named `<namespace>-<name>`. */
  readonly name: string;
  /** Namespace of the ServiceAccount. */
  readonly namespace: string;
  /** Labels of all three objects. */
  readonly labels: Record<string, string>;
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

export class PodReader extends Construct {
  /** The ServiceAccount to run the component's pods as. */
  public readonly serviceAccountName: string;

  constructor(scope: Construct, id: string, props: PodReaderProps) {
    super(scope, id);
    const { name, namespace, labels } = props;
    const serviceAccount = new k8s.KubeServiceAccount(this, 'service-account', { metadata: { name, namespace, labels } });
    const clusterRole = new k8s.KubeClusterRole(this, 'cluster-role', {
      metadata: { name: `${namespace}-${name}`, labels },
      rules: podReaderRules(props.nodeMetrics ?? false),
    });
    new k8s.KubeClusterRoleBinding(this, 'cluster-role-binding', {
      metadata: { name: `${namespace}-${name}`, labels },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: clusterRole.name },
      subjects: [{ kind: 'ServiceAccount', name: serviceAccount.name, namespace }],
    });
    this.serviceAccountName = serviceAccount.name;
  }
}
