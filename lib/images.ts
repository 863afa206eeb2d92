/**
 * The one place that pins container images. The Kubernetes manifests, the compose file and (by a test)
 * the Helm chart's values take their images from here. When you change a pin, cite the evidence in the
 * commit (see ../shared/reference/versions.md for how the current ones were checked).
 */

/** A container image reference: repository and tag, never `latest`. */
export interface ImageRef {
  /** Registry and repository, e.g. `prom/prometheus`. */
  readonly repository: string;
  /** An exact, existing tag. */
  readonly tag: string;
}

export const IMAGES = {
  /** Prometheus 3.14.0 (git tag v3.14.0, 2026-08-17; pinned by kube-prometheus-stack 88.5.3). */
  prometheus: { repository: 'prom/prometheus', tag: 'v3.14.0' },
  /** Grafana 13.2.0 (grafana-community chart 12.11.1 appVersion; Docker Hub tags have no `v`). */
  grafana: { repository: 'grafana/grafana', tag: '13.2.0' },
  /** Loki 3.7.6 (git tag v3.7.6; has `loki -health` from 3.7.0 for image-native healthchecks). */
  loki: { repository: 'grafana/loki', tag: '3.7.6' },
  /**
   * Promtail 3.6.11: the LAST image ever published. Promtail reached end of life on 2026-03-02 and
   * grafana/promtail:3.7.x does not exist. Grafana Alloy is its successor.
   */
  promtail: { repository: 'grafana/promtail', tag: '3.6.11' },
  /** Grafana Alloy v1.18.1 (Docker Hub tags keep the `v`). */
  alloy: { repository: 'grafana/alloy', tag: 'v1.18.1' },
  /** The demo application, built locally from app/ (`docker build -t demo-app:0.1.0 app/`). */
  app: { repository: 'demo-app', tag: '0.1.0' },
} as const satisfies Record<string, ImageRef>;

/** Names of the images pinned above. */
export type ImageName = keyof typeof IMAGES;

/** `repository:tag` of an image reference. */
export function imageString(image: ImageRef): string {
  return `${image.repository}:${image.tag}`;
}
