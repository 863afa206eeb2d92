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
 */
import type * as kplus from 'cdk8s-plus-27';
import { METRICS_PATH } from '../image-facts';
import { scrapeAnnotations } from './util';

export interface ScrapeOptions {
  /** The container port serving the metrics: one of the workload's containers must declare it. */
  readonly port: number;
  /** @default /metrics */
  readonly path?: string;
  /** @default http */
  readonly scheme?: 'http' | 'https';
}

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
  return annotations;
}
