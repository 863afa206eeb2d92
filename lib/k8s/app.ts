/**
 * The demo application (built from app/) and its traffic generator.
 */
import { k8s } from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { ServiceMonitor, ServiceMonitorSpecEndpointsRelabelingsAction } from '../../imports/servicemonitor-monitoring.coreos.com';
import { AppSettings } from '../config';
import { modelDefaults, httpProbe, oneAtATimeBudget, resourceRequirements, restrictedContainerSecurity, restrictedPodSecurity, scrapeAnnotations, spreadOverNodes } from './util';
import { applyPodSettingsTo } from './pod-settings';
import { componentLabels, selectorLabels } from './labels';
import { APP_HEALTH_PATH, APP_READY_PATH, APP_UID, appEnvironment, TRAFFIC_COMMAND, TRAFFIC_HEALTH_PORT } from '../components/app';

export interface DemoAppProps {
  /** The app's settings: the model's `app` block (name, namespace, image, traffic generator, ServiceMonitor). @default the model's defaults */
  readonly settings?: AppSettings;
  /** The cluster's DNS domain, in the app's address. @default cluster.local */
  readonly clusterDomain?: string;
  /** The ServiceMonitor's scrape interval, in seconds. @default the model's prometheus.scrapeIntervalSeconds (15) */
  readonly scrapeIntervalSeconds?: number;
}

/**
 * Deployment and Service of the demo app, scraped through `prometheus.io/*` annotations; optionally a
 * ServiceMonitor for Prometheus Operator clusters, and a traffic generator so dashboards show data.
 */
export class DemoApp extends Construct {
  /** DNS name and port other pods reach the app at. */
  public readonly url: string;

  constructor(scope: Construct, id: string, props: DemoAppProps = {}) {
    super(scope, id);
    const defaults = modelDefaults();
    const app = props.settings ?? defaults.app;
    const clusterDomain = props.clusterDomain ?? defaults.clusterDomain;
    const scrapeIntervalSeconds = props.scrapeIntervalSeconds ?? defaults.prometheus.scrapeIntervalSeconds;
    const labels = componentLabels(app.name, 'application', app.image);
    const image = `${app.image.repository}:${app.image.tag}`;
    const several = app.replicas > 1;
    this.url = `http://${app.name}.${app.namespace}.svc.${clusterDomain}:${app.port}`;

    const deployment = new k8s.KubeDeployment(this, 'deployment', {
      metadata: { name: app.name, namespace: app.namespace, labels },
      spec: {
        replicas: app.replicas,
        selector: { matchLabels: selectorLabels(app.name) },
        template: {
          metadata: { labels, annotations: scrapeAnnotations(app.port, app.metricsPath) },
          spec: {
            // Several pods: spread over the nodes where the scheduler can.
            ...(several ? { topologySpreadConstraints: spreadOverNodes(app.name) } : {}),
            automountServiceAccountToken: false,
            securityContext: restrictedPodSecurity(APP_UID),
            // Longer than the app's shutdown delay plus its slowest request.
            terminationGracePeriodSeconds: 30,
            containers: [{
              name: 'app',
              image,
              imagePullPolicy: app.image.pullPolicy,
              ports: [{ name: 'http', containerPort: app.port, protocol: 'TCP' }],
              env: Object.entries(appEnvironment(app)).map(([name, value]) => ({ name, value })),
              readinessProbe: httpProbe(APP_READY_PATH, 'http', { periodSeconds: 5 }),
              livenessProbe: httpProbe(APP_HEALTH_PATH, 'http', { initialDelaySeconds: 5 }),
              resources: resourceRequirements(app.resources),
              securityContext: restrictedContainerSecurity(),
              volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }],
            }],
            volumes: [{ name: 'tmp', emptyDir: { sizeLimit: k8s.Quantity.fromString('64Mi') } }],
          },
        },
      },
    });
    applyPodSettingsTo(deployment, app);

    new k8s.KubeService(this, 'service', {
      metadata: { name: app.name, namespace: app.namespace, labels },
      spec: {
        type: 'ClusterIP',
        selector: selectorLabels(app.name),
        ports: [{ name: 'http', port: app.port, targetPort: k8s.IntOrString.fromString('http'), protocol: 'TCP' }],
      },
    });
    // Several pods: a node drain takes one of them at a time, and the app keeps serving.
    if (several) oneAtATimeBudget(this, 'disruption-budget', { name: app.name, namespace: app.namespace, labels });

    if (app.trafficGenerator.enabled) this.addTrafficGenerator(app, image);
    if (app.serviceMonitor.enabled) this.addServiceMonitor(app, scrapeIntervalSeconds, labels);
  }

  private addTrafficGenerator(app: AppSettings, image: string) {
    const name = `${app.name}-traffic`;
    const labels = componentLabels(name, 'traffic-generator', app.image);
    const traffic = new k8s.KubeDeployment(this, 'traffic', {
      metadata: { name, namespace: app.namespace, labels },
      spec: {
        replicas: 1,
        selector: { matchLabels: selectorLabels(name) },
        template: {
          metadata: { labels },
          spec: {
            automountServiceAccountToken: false,
            securityContext: restrictedPodSecurity(APP_UID),
            containers: [{
              name: 'traffic',
              image,
              imagePullPolicy: app.image.pullPolicy,
              command: TRAFFIC_COMMAND,
              ports: [{ name: 'health', containerPort: TRAFFIC_HEALTH_PORT, protocol: 'TCP' }],
              env: [
                { name: 'TRAFFIC_TARGET_URL', value: this.url },
                { name: 'TRAFFIC_RPS', value: String(app.trafficGenerator.requestsPerSecond) },
                { name: 'TRAFFIC_HEALTH_PORT', value: String(TRAFFIC_HEALTH_PORT) },
              ],
              readinessProbe: httpProbe(APP_HEALTH_PATH, 'health'),
              livenessProbe: httpProbe(APP_HEALTH_PATH, 'health', { initialDelaySeconds: 5 }),
              resources: resourceRequirements(app.trafficGenerator.resources),
              securityContext: restrictedContainerSecurity(),
            }],
          },
        },
      },
    });
    applyPodSettingsTo(traffic, app, { env: false });
  }

  private addServiceMonitor(app: AppSettings, scrapeIntervalSeconds: number, labels: Record<string, string>) {
    const replace = ServiceMonitorSpecEndpointsRelabelingsAction.REPLACE;
    new ServiceMonitor(this, 'service-monitor', {
      metadata: { name: app.name, namespace: app.namespace, labels: { ...labels, ...app.serviceMonitor.labels } },
      spec: {
        selector: { matchLabels: selectorLabels(app.name) },
        endpoints: [{
          port: 'http',
          path: app.metricsPath,
          interval: `${scrapeIntervalSeconds}s`,
          // The operator already sets namespace, pod and container; these add the rest of the label contract.
          relabelings: [
            { action: replace, sourceLabels: ['__meta_kubernetes_pod_label_app_kubernetes_io_name'], targetLabel: 'app' },
            { action: replace, sourceLabels: ['__meta_kubernetes_pod_node_name'], targetLabel: 'node' },
          ],
        }],
      },
    });
  }
}
