/**
 * Kubernetes labels every object of the stack carries, and the stable subset used in selectors.
 */
import { ImageSettings } from '../config';

/** The value of `app.kubernetes.io/part-of` on every object of the stack. */
export const PART_OF = 'observability-stack';

/** The label that names a component's pods, and most charts' pods (the user's Prometheus: prometheus.scraper.name). */
export const NAME_LABEL = 'app.kubernetes.io/name';

/** Labels that select a component's pods: stable across upgrades (no version). */
export function selectorLabels(name: string): Record<string, string> {
  return {
    [NAME_LABEL]: name,
    'app.kubernetes.io/part-of': PART_OF,
  };
}

/** Metadata labels of a component's objects: the selector labels plus component, version and manager. */
export function componentLabels(name: string, component: string, image?: ImageSettings): Record<string, string> {
  return {
    ...selectorLabels(name),
    'app.kubernetes.io/component': component,
    ...(image ? { 'app.kubernetes.io/version': image.tag } : {}),
    'app.kubernetes.io/managed-by': 'cdk8s',
  };
}
