/**
 * The stack's namespaces, with Pod Security admission labels. They live in their own chart, synthesized
 * into the first file of dist/, so `kubectl apply -f dist/` creates them before anything inside them.
 */
import { Chart, ChartProps } from 'cdk8s';
import { k8s } from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { StackConfig } from '../config';
import { PART_OF } from './labels';

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

export interface NamespacesChartProps extends ChartProps {
  /** The resolved stack model. */
  readonly config: StackConfig;
}

/**
 * Namespaces: the stack's and the app's enforce `restricted`; the log agent's is `privileged` because
 * reading /var/log/pods needs hostPath and uid 0, which `restricted` and `baseline` both forbid.
 */
export class NamespacesChart extends Chart {
  constructor(scope: Construct, id: string, props: NamespacesChartProps) {
    super(scope, id, props);
    const c = props.config;
    const namespaces: Array<[string, PodSecurityLevel, string]> = [[c.namespace, 'restricted', 'monitoring']];
    if (c.app.enabled && c.app.namespace !== c.namespace) namespaces.push([c.app.namespace, 'restricted', 'application']);
    if (c.loki.enabled) namespaces.push([c.logAgent.namespace, 'privileged', 'log-agent']);
    for (const [name, level, component] of namespaces) {
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
