/**
 * ObservabilityStack: the whole stack as cdk8s charts: a namespaces chart first (so one
 * `kubectl apply -f dist/` pass works on a fresh cluster), then the stack itself.
 */
import { Chart } from 'cdk8s';
import { Construct } from 'constructs';
import { parseStackConfig, StackConfig, StackInput } from './config';
import { DemoApp } from './demo-app';
import { NamespacesChart } from './namespaces';
import { Prometheus } from './prometheus';

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
  public readonly prometheus: Prometheus;
  public readonly app?: DemoApp;

  constructor(scope: Construct, id: string, props: ObservabilityStackProps = {}) {
    const config = parseStackConfig(props.config ?? {});
    super(scope, id, { disableResourceNameHashes: true });
    this.config = config;
    this.namespaces = new NamespacesChart(scope, `${id}-namespaces`, { config, disableResourceNameHashes: true });
    this.addDependency(this.namespaces);
    this.prometheus = new Prometheus(this, 'prometheus', { config });
    if (config.app.enabled) this.app = new DemoApp(this, 'app', { config });
  }
}
