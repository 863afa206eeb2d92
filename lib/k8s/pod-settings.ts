/**
 * The pod settings every component takes (lib/config.ts podSettings: nodeSelector, tolerations, affinity,
 * priorityClassName, podAnnotations, podLabels, imagePullSecrets, extraEnv), applied to a workload's pod
 * template by the construct that makes it (one call each), and the stack's commonLabels, applied once to
 * every object. The stack's own labels and annotations cannot be overridden: the model refuses those keys.
 */
import { ApiObject, JsonPatch } from 'cdk8s';
import { Construct } from 'constructs';
import { PodSettings } from '../config';

/** A JSON pointer segment (RFC 6901): "~" and "/" escaped. */
function pointer(segment: string): string {
  return segment.replace(/~/g, '~0').replace(/\//g, '~1');
}

/** The workloads (objects with a pod template) under `scope`. */
function workloads(scope: Construct): ApiObject[] {
  return scope.node.findAll().filter((c): c is ApiObject => c instanceof ApiObject && ['Deployment', 'DaemonSet', 'StatefulSet'].includes(c.kind));
}

/**
 * Applies pod settings to one workload's pod template. `env: false` leaves extraEnv out (the traffic
 * generator is placed like the app, but the app's environment is the app's alone).
 */
export function applyPodSettingsTo(w: ApiObject, s: PodSettings, options: { readonly env?: boolean } = {}): void {
  const json = w.toJson();
  const pod = json.spec.template.spec;
  const patch = (p: JsonPatch) => w.addJsonPatch(p);
  if (Object.keys(s.nodeSelector).length > 0) patch(JsonPatch.add('/spec/template/spec/nodeSelector', s.nodeSelector));
  if (s.tolerations.length > 0) {
    patch(pod.tolerations ? JsonPatch.replace('/spec/template/spec/tolerations', [...pod.tolerations, ...s.tolerations])
      : JsonPatch.add('/spec/template/spec/tolerations', s.tolerations));
  }
  if (Object.keys(s.affinity).length > 0) patch(JsonPatch.add('/spec/template/spec/affinity', s.affinity));
  if (s.priorityClassName) patch(JsonPatch.add('/spec/template/spec/priorityClassName', s.priorityClassName));
  if (s.imagePullSecrets.length > 0) patch(JsonPatch.add('/spec/template/spec/imagePullSecrets', s.imagePullSecrets.map((name) => ({ name }))));
  if (Object.keys(s.podAnnotations).length > 0) {
    const annotations = json.spec.template.metadata.annotations;
    patch(annotations ? JsonPatch.replace('/spec/template/metadata/annotations', { ...annotations, ...s.podAnnotations })
      : JsonPatch.add('/spec/template/metadata/annotations', s.podAnnotations));
  }
  for (const [key, value] of Object.entries(s.podLabels)) patch(JsonPatch.add(`/spec/template/metadata/labels/${pointer(key)}`, value));
  // The main container (the first) gets the extra environment, after the stack's own, by name.
  const extra = options.env === false ? [] : Object.keys(s.extraEnv).sort().map((name) => ({ name, value: s.extraEnv[name] }));
  if (extra.length > 0) {
    patch(pod.containers[0].env ? JsonPatch.replace('/spec/template/spec/containers/0/env', [...pod.containers[0].env, ...extra])
      : JsonPatch.add('/spec/template/spec/containers/0/env', extra));
  }
}

/**
 * Adds `labels` to every object under `scope`, and to the pods of its workloads, where the object has no
 * label of that key already (an object's own labels, e.g. a ServiceMonitor's, win).
 */
export function applyCommonLabels(scope: Construct, labels: Record<string, string>): void {
  if (Object.keys(labels).length === 0) return;
  for (const o of scope.node.findAll().filter((x): x is ApiObject => x instanceof ApiObject)) {
    const own = o.toJson().metadata?.labels ?? {};
    for (const [key, value] of Object.entries(labels)) if (!(key in own)) o.metadata.addLabel(key, value);
  }
  for (const w of workloads(scope)) {
    const own = w.toJson().spec.template.metadata?.labels ?? {};
    for (const [key, value] of Object.entries(labels)) {
      if (!(key in own)) w.addJsonPatch(JsonPatch.add(`/spec/template/metadata/labels/${pointer(key)}`, value));
    }
  }
}
