/**
 * Makes a cdk8s-plus workload of yours scraped by the stack's Prometheus, so you never type annotation strings:
 * its pods get the `prometheus.io/*` annotations the pod job reads (lib/render/prometheus-config.ts
 * podAnnotationRelabelRules), for a port one of its containers declares (the job scrapes declared ports only).
 *
 *   const web = new kplus.Deployment(chart, 'web', { containers: [{ image: 'shop/web:1.4.2', portNumber: 8080 }] });
 *   scrapeWorkload(web, { port: 8080 });
 *
 * Its series then carry the label contract (namespace, pod, container, node, and `app` from the pod's
 * `app.kubernetes.io/name` or `app` label, else its controller's name), as its logs do.
 *
 * With `serviceMonitor`, also for a Prometheus Operator (kube-prometheus-stack) that scrapes by ServiceMonitor: a
 * headless Service `<workload>-metrics` in front of the metrics port, and a ServiceMonitor selecting it, with
 * relabelings that give the series the same contract labels. Apply those only where the cluster serves
 * monitoring.coreos.com/v1; the stack's own Prometheus needs neither.
 */
import * as kplus from 'cdk8s-plus-27';
import { ServiceMonitor, ServiceMonitorSpecEndpointsRelabelingsAction, ServiceMonitorSpecEndpointsScheme } from '../../imports/servicemonitor-monitoring.coreos.com';
import { METRICS_PATH } from '../image-facts';
import { kubernetesContractRules } from '../render/relabel';
import { scrapeAnnotations } from './util';

export interface ScrapeOptions {
  /** The container port serving the metrics: one of the workload's containers must declare it. */
  readonly port: number;
  /** @default /metrics */
  readonly path?: string;
  /** @default http */
  readonly scheme?: 'http' | 'https';
  /** Also a metrics Service and a ServiceMonitor for a Prometheus Operator. @default none */
  readonly serviceMonitor?: ServiceMonitorOptions;
}

export interface ServiceMonitorOptions {
  /** Labels of the ServiceMonitor, e.g. {release: kube-prometheus-stack} so that operator's serviceMonitorSelector picks it up. @default {} */
  readonly labels?: Record<string, string>;
  /** How often the operator's Prometheus scrapes it, in seconds. @default the operator's scrape interval */
  readonly intervalSeconds?: number;
}

/** The name of the metrics port on the Service scrapeWorkload makes for a ServiceMonitor. */
export const METRICS_SERVICE_PORT_NAME = 'metrics';

/** Adds the scrape annotations to the workload's pods; throws, naming the workload and port, when no container declares the port. */
export function scrapeWorkload(workload: kplus.Deployment | kplus.StatefulSet | kplus.DaemonSet, options: ScrapeOptions): Record<string, string> {
  const path = options.path ?? METRICS_PATH;
  if (!Number.isInteger(options.port) || options.port < 1 || options.port > 65535) {
    throw new Error(`scrapeWorkload(${workload.node.path}): port must be an integer from 1 to 65535, got ${options.port}`);
  }
  if (!/^\/[^\s?#]*$/.test(path)) throw new Error(`scrapeWorkload(${workload.node.path}): path must be an absolute path without a query, got ${JSON.stringify(path)}`);
  const declared = workload.containers.flatMap((c) => c.ports.map((p) => p.number));
  if (!declared.includes(options.port)) {
    throw new Error(`scrapeWorkload(${workload.node.path}): port ${options.port} is declared by none of its containers (declared: ${declared.join(', ') || 'none'}); Prometheus scrapes declared container ports only`);
  }
  const annotations = {
    ...scrapeAnnotations(options.port, path),
    ...(options.scheme === 'https' ? { 'prometheus.io/scheme': 'https' } : {}),
  };
  for (const [key, value] of Object.entries(annotations)) workload.podMetadata.addAnnotation(key, value);
  if (options.serviceMonitor) addServiceMonitor(workload, options.port, path, options.scheme, options.serviceMonitor);
  return annotations;
}

function addServiceMonitor(workload: kplus.Deployment | kplus.StatefulSet | kplus.DaemonSet, port: number, path: string, scheme: ScrapeOptions['scheme'], o: ServiceMonitorOptions): void {
  const where = `scrapeWorkload(${workload.node.path})`;
  if (o.intervalSeconds !== undefined && (!Number.isInteger(o.intervalSeconds) || o.intervalSeconds < 1 || o.intervalSeconds > 3600)) {
    throw new Error(`${where}: serviceMonitor.intervalSeconds must be an integer from 1 to 3600, got ${o.intervalSeconds}`);
  }
  const name = `${workload.name}-metrics`;
  if (name.length > 63) throw new Error(`${where}: serviceMonitor: the metrics Service's name ${name} is longer than 63 characters (a Service name is a DNS label); give the workload a shorter name`);
  // With https the operator's Prometheus verifies the pod's certificate against its IP: give the ServiceMonitor a
  // tlsConfig of your own (ApiObject.of(...).addJsonPatch) where that does not hold.
  // The Service is selected by this label, which only it carries.
  const selector = { 'app.kubernetes.io/name': name };
  new kplus.Service(workload, 'metrics-service', {
    metadata: { name, labels: selector },
    clusterIP: 'None',
    selector: workload,
    ports: [{ name: METRICS_SERVICE_PORT_NAME, port, targetPort: port }],
  });
  const replace = ServiceMonitorSpecEndpointsRelabelingsAction.REPLACE;
  new ServiceMonitor(workload, 'service-monitor', {
    metadata: { name, labels: { ...o.labels } },
    spec: {
      selector: { matchLabels: selector },
      endpoints: [{
        port: METRICS_SERVICE_PORT_NAME,
        path,
        ...(scheme === 'https' ? { scheme: ServiceMonitorSpecEndpointsScheme.HTTPS } : {}),
        ...(o.intervalSeconds ? { interval: `${o.intervalSeconds}s` } : {}),
        // The label contract, by the rules of the stack's own pod job (the operator adds service and endpoint).
        relabelings: kubernetesContractRules().map((r) => ({
          action: replace,
          sourceLabels: r.source_labels,
          ...(r.regex ? { regex: r.regex } : {}),
          targetLabel: r.target_label,
        })),
      }],
    },
  });
}
