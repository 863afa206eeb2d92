/**
 * The pinned images, collected from the component modules (lib/components/), each pin beside what its
 * image holds. The Kubernetes manifests, the compose file and (by a test) the Helm chart's values take their
 * images from there. When you change a pin, change its facts with it and cite the evidence in the commit
 * (see ../shared/reference/versions.md for how the current ones were checked).
 */
import { ALERTMANAGER_IMAGE, ALERTMANAGER_IMAGE_FACTS } from './components/alertmanager';
import { ALLOY_IMAGE, ALLOY_IMAGE_FACTS } from './components/alloy';
import { APP_IMAGE, APP_IMAGE_FACTS } from './components/app';
import { GRAFANA_IMAGE, GRAFANA_IMAGE_FACTS } from './components/grafana';
import { KUBE_STATE_METRICS_IMAGE, KUBE_STATE_METRICS_IMAGE_FACTS } from './components/kube-state-metrics';
import { CADVISOR_IMAGE, CADVISOR_IMAGE_FACTS } from './components/cadvisor';
import { NODE_EXPORTER_IMAGE, NODE_EXPORTER_IMAGE_FACTS } from './components/node-exporter';
import { LOKI_IMAGE, LOKI_IMAGE_FACTS } from './components/loki';
import { PROMETHEUS_DISTROLESS_IMAGE_FACTS, PROMETHEUS_IMAGE, PROMETHEUS_IMAGE_FACTS } from './components/prometheus';
import { PROMTAIL_IMAGE, PROMTAIL_IMAGE_FACTS } from './components/promtail';
import type { ImageFacts } from './image-facts';

/** A container image reference: repository and tag, never `latest`. */
export interface ImageRef {
  /** Registry and repository, e.g. `prom/prometheus`. */
  readonly repository: string;
  /** An exact, existing tag. */
  readonly tag: string;
}

/** Every pinned image, by component. */
export const IMAGES = {
  prometheus: PROMETHEUS_IMAGE,
  grafana: GRAFANA_IMAGE,
  loki: LOKI_IMAGE,
  promtail: PROMTAIL_IMAGE,
  alloy: ALLOY_IMAGE,
  app: APP_IMAGE,
  alertmanager: ALERTMANAGER_IMAGE,
  kubeStateMetrics: KUBE_STATE_METRICS_IMAGE,
  nodeExporter: NODE_EXPORTER_IMAGE,
  cadvisor: CADVISOR_IMAGE,
} as const satisfies Record<string, ImageRef>;

/** Names of the images pinned above. */
export type ImageName = keyof typeof IMAGES;

/** What each pinned image holds, by the name of its pin. */
export const IMAGE_FACTS: Readonly<Record<ImageName, ImageFacts>> = {
  prometheus: PROMETHEUS_IMAGE_FACTS,
  grafana: GRAFANA_IMAGE_FACTS,
  loki: LOKI_IMAGE_FACTS,
  promtail: PROMTAIL_IMAGE_FACTS,
  alloy: ALLOY_IMAGE_FACTS,
  app: APP_IMAGE_FACTS,
  alertmanager: ALERTMANAGER_IMAGE_FACTS,
  kubeStateMetrics: KUBE_STATE_METRICS_IMAGE_FACTS,
  nodeExporter: NODE_EXPORTER_IMAGE_FACTS,
  cadvisor: CADVISOR_IMAGE_FACTS,
};

/** Facts of images the stack can be set to run besides the pins (the chart's scenarios use them). */
export const OTHER_IMAGE_FACTS: readonly ImageFacts[] = [PROMETHEUS_DISTROLESS_IMAGE_FACTS];

/** `repository:tag` of an image reference. */
export function imageString(image: ImageRef): string {
  return `${image.repository}:${image.tag}`;
}

/** The facts of an image by `repository:tag`, or undefined when nothing is known of it. */
export function factsOfImage(ref: string): ImageFacts | undefined {
  return [...Object.values(IMAGE_FACTS), ...OTHER_IMAGE_FACTS].find((f) => imageString(f.image) === ref || (f.also ?? []).includes(ref));
}
