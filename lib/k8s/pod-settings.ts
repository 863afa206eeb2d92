/**
 * The pod settings every component takes (lib/config.ts podSettings: nodeSelector, tolerations, affinity,
 * priorityClassName, podAnnotations, podLabels, imagePullSecrets, extraEnv) and the stack's commonLabels,
 * applied once to every workload the stack synthesizes, whichever construct made it. A construct stays
 * about its component; this is the one place these settings reach the manifests.
 */
import { ApiObject, JsonPatch } from 'cdk8s';
import { Construct } from 'constructs';
import { PodSettings, StackConfig } from '../config';

/** Which block of the settings dresses a workload, by its `app.kubernetes.io/component` label. */
const SETTINGS_BY_COMPONENT: Record<string, { block: keyof StackConfig; env: boolean }> = {
  metrics: { block: 'prometheus', env: true },
  logs: { block: 'loki', env: true },
  dashboards: { block: 'grafana', env: true },
  'log-agent': { block: 'logAgent', env: true },
  application: { block: 'app', env: true },
  // The traffic generator is placed like the app, but the app's environment is the app's alone.
  'traffic-generator': { block: 'app', env: false },
};

/** A JSON pointer segment (RFC 6901): "~" and "/" escaped. */
function pointer(segment: string): string {
  return segment.replace(/~/g, '~0').replace(/\//g, '~1');
}

/** The workloads under `scope` with a pod template. */
function workloads(scope: Construct): ApiObject[] {
  return scope.node.findAll().filter((c): c is ApiObject => c instanceof ApiObject && ['Deployment', 'DaemonSet', 'StatefulSet'].includes(c.kind));
}

/** Applies each component's pod settings to its workloads' pod templates. */
export function applyPodSettings(scope: Construct, c: StackConfig): void {
  for (const w of workloads(scope)) {
    const json = w.toJson();
    const target = SETTINGS_BY_COMPONENT[json.metadata?.labels?.['app.kubernetes.io/component']];
    if (!target) throw new Error(`no pod settings for ${w.kind}/${w.name}: its app.kubernetes.io/component label is not in lib/k8s/pod-settings.ts`);
    const s = c[target.block] as unknown as PodSettings;
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
    const extra = target.env ? Object.keys(s.extraEnv).sort().map((name) => ({ name, value: s.extraEnv[name] })) : [];
    if (extra.length > 0) {
      patch(pod.containers[0].env ? JsonPatch.replace('/spec/template/spec/containers/0/env', [...pod.containers[0].env, ...extra])
        : JsonPatch.add('/spec/template/spec/containers/0/env', extra));
    }
  }
}

/** Adds `labels` to every object under `scope`, and to the pods of its workloads. */
export function applyCommonLabels(scope: Construct, labels: Record<string, string>): void {
  if (Object.keys(labels).length === 0) return;
  for (const o of scope.node.findAll().filter((x): x is ApiObject => x instanceof ApiObject)) {
    for (const [key, value] of Object.entries(labels)) o.metadata.addLabel(key, value);
  }
  for (const w of workloads(scope)) {
    for (const [key, value] of Object.entries(labels)) w.addJsonPatch(JsonPatch.add(`/spec/template/metadata/labels/${pointer(key)}`, value));
  }
}
