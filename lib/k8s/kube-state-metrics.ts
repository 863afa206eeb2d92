/**
 * kube-state-metrics: one pod in the stack's namespace that lists the cluster's objects and serves them as
 * metrics (restarts, OOM kills, requests and limits, phases, the pods' labels), with a ClusterRole that may
 * list and watch exactly the kinds it is told to serve. Prometheus scrapes it with a job of its own
 * (lib/render/prometheus-config.ts), so its pod carries no prometheus.io annotations.
 */
import { k8s } from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import {
  KUBE_STATE_METRICS_IMAGE_FACTS,
  KUBE_STATE_METRICS_LIVE_PATH,
  KUBE_STATE_METRICS_NAME,
  KUBE_STATE_METRICS_PORT,
  KUBE_STATE_METRICS_PORT_NAME,
  KUBE_STATE_METRICS_READY_PATH,
  KUBE_STATE_METRICS_TELEMETRY_PORT,
  KUBE_STATE_METRICS_TELEMETRY_PORT_NAME,
  kubeStateMetricsArgs,
  kubeStateMetricsRules,
} from '../components/kube-state-metrics';
import { KubeStateMetricsSettings } from '../config';
import { componentLabels } from './labels';
import { ClusterReader } from './pod-reader';
import { applyPodSettingsTo } from './pod-settings';
import { httpProbe, modelDefaults, resourceRequirements, restrictedContainerSecurity, restrictedPodSecurity, singlePodDeploymentSpec } from './util';

export interface KubeStateMetricsProps {
  /** Namespace of its objects (Pod Security restricted). @default monitoring */
  readonly namespace?: string;
  /** Its settings: the model's `kubeStateMetrics` block. @default the model's defaults */
  readonly settings?: KubeStateMetricsSettings;
}

export class KubeStateMetrics extends Construct {
  constructor(scope: Construct, id: string, props: KubeStateMetricsProps = {}) {
    super(scope, id);
    const defaults = modelDefaults();
    const s = props.settings ?? defaults.kubeStateMetrics;
    const ns = props.namespace ?? defaults.namespace;
    const name = KUBE_STATE_METRICS_NAME;
    const labels = componentLabels(name, 'exporter', s.image);

    const identity = new ClusterReader(this, 'identity', { name, namespace: ns, labels, rules: kubeStateMetricsRules() });

    const deployment = new k8s.KubeDeployment(this, 'deployment', {
      metadata: { name, namespace: ns, labels },
      spec: singlePodDeploymentSpec(name, labels, {}, {
        serviceAccountName: identity.serviceAccountName,
        // It reads the API with its token: the one pod of the namespace that needs it mounted.
        automountServiceAccountToken: true,
        // The image's USER is the name `nobody`: the kubelet needs its uid to check runAsNonRoot.
        securityContext: restrictedPodSecurity(KUBE_STATE_METRICS_IMAGE_FACTS.user.uid),
        containers: [{
          name,
          image: `${s.image.repository}:${s.image.tag}`,
          imagePullPolicy: s.image.pullPolicy,
          args: kubeStateMetricsArgs(s.metricLabelsAllowlist),
          ports: [
            { name: KUBE_STATE_METRICS_PORT_NAME, containerPort: KUBE_STATE_METRICS_PORT, protocol: 'TCP' },
            { name: KUBE_STATE_METRICS_TELEMETRY_PORT_NAME, containerPort: KUBE_STATE_METRICS_TELEMETRY_PORT, protocol: 'TCP' },
          ],
          livenessProbe: httpProbe(KUBE_STATE_METRICS_LIVE_PATH, KUBE_STATE_METRICS_PORT_NAME, { initialDelaySeconds: 5, timeoutSeconds: 5 }),
          readinessProbe: httpProbe(KUBE_STATE_METRICS_READY_PATH, KUBE_STATE_METRICS_TELEMETRY_PORT_NAME, { initialDelaySeconds: 5, timeoutSeconds: 5 }),
          resources: resourceRequirements(s.resources),
          securityContext: restrictedContainerSecurity(),
        }],
      }),
    });
    applyPodSettingsTo(deployment, s);
  }
}
