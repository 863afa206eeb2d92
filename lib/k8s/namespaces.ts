/**
 * The stack's namespaces, with Pod Security admission labels. They live in their own chart, synthesized
 * into the first file of dist/, so `kubectl apply -f dist/` creates them before anything inside them.
 */
import { Chart, ChartProps } from 'cdk8s';
import { k8s } from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { StackConfig } from '../config';
import { PART_OF } from './labels';
import { shipsLogs } from '../components/loki';

/** A Pod Security Standards level. */
export type PodSecurityLevel = 'restricted' | 'baseline' | 'privileged';

/** Labels that enforce (and warn and audit on) a Pod Security level. */
export function podSecurityLabels(level: PodSecurityLevel): Record<string, string> {
  return {
    'pod-security.kubernetes.io/enforce': level,
    'pod-security.kubernetes.io/enforce-version': 'latest',
    'pod-security.kubernetes.io/warn': level,
    'pod-security.kubernetes.io/warn-version': 'latest',
    'pod-security.kubernetes.io/audit': level,
    'pod-security.kubernetes.io/audit-version': 'latest',
  };
}

/** A namespace of the stack: its name, the Pod Security level it enforces, and what lives there. */
export interface StackNamespace {
  readonly name: string;
  readonly level: PodSecurityLevel;
  /** Its `app.kubernetes.io/component` label, e.g. `monitoring`. */
  readonly component: string;
}

export interface NamespacesChartProps extends ChartProps {
  /** The namespaces to create, in order. */
  readonly namespaces: readonly StackNamespace[];
}

/**
 * The namespaces a stack needs: its own and the app's enforce `restricted`; the node agents' (`logAgent.namespace`:
 * the log agent and node-exporter) is `privileged`, because reading /var/log/pods needs hostPath and uid 0, and
 * node-exporter needs the host's network and read-only hostPath volumes, which `restricted` and `baseline` forbid.
 */
export function stackNamespaces(c: Pick<StackConfig, 'namespace' | 'app' | 'loki' | 'logAgent' | 'nodeExporter'>): StackNamespace[] {
  const namespaces: StackNamespace[] = [{ name: c.namespace, level: 'restricted', component: 'monitoring' }];
  if (c.app.enabled && c.app.namespace !== c.namespace) namespaces.push({ name: c.app.namespace, level: 'restricted', component: 'application' });
  if (shipsLogs(c.loki) || c.nodeExporter.enabled) namespaces.push({ name: c.logAgent.namespace, level: 'privileged', component: 'node-agent' });
  return namespaces;
}

/** Namespaces with their Pod Security labels (stackNamespaces says which a stack needs). */
export class NamespacesChart extends Chart {
  constructor(scope: Construct, id: string, props: NamespacesChartProps) {
    super(scope, id, props);
    for (const { name, level, component } of props.namespaces) {
      new k8s.KubeNamespace(this, name, {
        metadata: {
          name,
          labels: {
            'app.kubernetes.io/part-of': PART_OF,
            'app.kubernetes.io/component': component,
            'app.kubernetes.io/managed-by': 'cdk8s',
            ...podSecurityLabels(level),
          },
        },
      });
    }
  }
}
