/**
 * Small helpers the constructs share: the restricted security contexts, probes, resources and the
 * config checksum annotation. Secure defaults live here so no construct can forget them.
 */
import { createHash } from 'crypto';
import { k8s } from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { parseStackConfig, Resources, StackConfig } from '../config';
import { METRICS_PATH } from '../image-facts';
import { selectorLabels } from './labels';
import * as path from 'path';
import { LOKI_PASSWORD_DIR, LOKI_PASSWORD_FILE, type LokiEndpoint } from '../components/loki';

/** The model's defaults, resolved once: what a construct uses for each prop left out. */
let defaults: StackConfig | undefined;
export function modelDefaults(): StackConfig {
  return (defaults ??= parseStackConfig({}));
}

/** Pod-level security context that meets Pod Security `restricted` for a fixed non-root uid. */
export function restrictedPodSecurity(uid: number, gid: number = uid): k8s.PodSecurityContext {
  return {
    runAsNonRoot: true,
    runAsUser: uid,
    runAsGroup: gid,
    fsGroup: gid,
    fsGroupChangePolicy: 'OnRootMismatch',
    seccompProfile: { type: 'RuntimeDefault' },
  };
}

/** Container-level security context: read-only root, no privilege escalation, every capability dropped. */
export function restrictedContainerSecurity(): k8s.SecurityContext {
  return {
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    privileged: false,
    capabilities: { drop: ['ALL'] },
    seccompProfile: { type: 'RuntimeDefault' },
  };
}

/** Requests and limits from the model. */
export function resourceRequirements(r: Resources): k8s.ResourceRequirements {
  return {
    requests: { cpu: k8s.Quantity.fromString(r.requests.cpu), memory: k8s.Quantity.fromString(r.requests.memory) },
    limits: { cpu: k8s.Quantity.fromString(r.limits.cpu), memory: k8s.Quantity.fromString(r.limits.memory) },
  };
}

export interface HttpProbeOptions {
  /** @default 0 */
  readonly initialDelaySeconds?: number;
  /** @default 10 */
  readonly periodSeconds?: number;
  /** @default 3 */
  readonly timeoutSeconds?: number;
  /** @default 3 */
  readonly failureThreshold?: number;
}

/** An HTTP GET probe on a named container port. */
export function httpProbe(path: string, port: string, o: HttpProbeOptions = {}): k8s.Probe {
  return {
    httpGet: { path, port: k8s.IntOrString.fromString(port) },
    initialDelaySeconds: o.initialDelaySeconds ?? 0,
    periodSeconds: o.periodSeconds ?? 10,
    timeoutSeconds: o.timeoutSeconds ?? 3,
    failureThreshold: o.failureThreshold ?? 3,
  };
}

/** `checksum/config` value: changes whenever the mounted config changes, so the pod rolls. */
export function configChecksum(data: Record<string, string>): string {
  const h = createHash('sha256');
  for (const key of Object.keys(data).sort()) h.update(key).update('\0').update(data[key]).update('\0');
  return h.digest('hex');
}

/** Annotations that ask Prometheus's pod job to scrape a pod. */
export function scrapeAnnotations(port: number, path = METRICS_PATH): Record<string, string> {
  return {
    'prometheus.io/scrape': 'true',
    'prometheus.io/port': String(port),
    'prometheus.io/path': path,
  };
}

/** A PersistentVolumeClaim spec for one ReadWriteOnce volume. */
export function pvcSpec(size: string, storageClassName?: string): k8s.PersistentVolumeClaimSpec {
  return {
    accessModes: ['ReadWriteOnce'],
    resources: { requests: { storage: k8s.Quantity.fromString(size) } },
    ...(storageClassName ? { storageClassName } : {}),
  };
}

/**
 * Spec of a Deployment of exactly one pod that owns a ReadWriteOnce volume: `Recreate`, so the old pod lets
 * go of the volume before the new one starts; selected by the component's stable selector labels.
 */
export function singlePodDeploymentSpec(
  name: string,
  labels: Record<string, string>,
  annotations: Record<string, string>,
  pod: k8s.PodSpec,
): k8s.DeploymentSpec {
  return {
    replicas: 1,
    strategy: { type: 'Recreate' },
    selector: { matchLabels: selectorLabels(name) },
    template: { metadata: { labels, ...(Object.keys(annotations).length > 0 ? { annotations } : {}) }, spec: pod },
  };
}

/**
 * A headless Service through which a component's several pods find each other (Loki's memberlist, Grafana's
 * alerting): every pod's address, not-ready ones too (a pod joins its peers before it is ready); each port by the
 * container port's name.
 */
export function peersService(scope: Construct, id: string, o: {
  readonly name: string; readonly namespace: string; readonly labels: Record<string, string>; readonly component: string;
  readonly ports: ReadonlyArray<{ readonly name: string; readonly port: number; readonly protocol: 'TCP' | 'UDP' }>;
}): k8s.KubeService {
  return new k8s.KubeService(scope, id, {
    metadata: { name: o.name, namespace: o.namespace, labels: o.labels },
    spec: {
      clusterIp: 'None',
      publishNotReadyAddresses: true,
      selector: selectorLabels(o.component),
      ports: o.ports.map((p) => ({ name: p.name, port: p.port, targetPort: k8s.IntOrString.fromString(p.name), protocol: p.protocol })),
    },
  });
}

/** Several pods of a component: spread over the nodes where the scheduler can. */
export function spreadOverNodes(component: string): k8s.TopologySpreadConstraint[] {
  return [{ maxSkew: 1, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'ScheduleAnyway', labelSelector: { matchLabels: selectorLabels(component) } }];
}

/** Several pods of a component: a node drain takes one of them at a time. */
export function oneAtATimeBudget(scope: Construct, id: string, o: { readonly name: string; readonly namespace: string; readonly labels: Record<string, string> }): k8s.KubePodDisruptionBudget {
  return new k8s.KubePodDisruptionBudget(scope, id, {
    metadata: { name: o.name, namespace: o.namespace, labels: o.labels },
    spec: { maxUnavailable: k8s.IntOrString.fromNumber(1), selector: { matchLabels: selectorLabels(o.name) } },
  });
}

/**
 * The basic-auth password of a Loki of the user's (loki.external.basicAuth) as its clients read it: the user's
 * Secret's key as the file LOKI_PASSWORD_FILE, read-only, readable by its owner (root: the log agent) and the
 * pod's fsGroup (Grafana) only. None without basic auth.
 */
export function lokiPasswordVolume(loki: Pick<LokiEndpoint, 'passwordSecret'> | undefined): { volumes: k8s.Volume[]; volumeMounts: k8s.VolumeMount[] } {
  const secret = loki?.passwordSecret;
  if (!secret) return { volumes: [], volumeMounts: [] };
  return {
    volumes: [{ name: 'loki-password', secret: { secretName: secret.name, items: [{ key: secret.key, path: path.posix.basename(LOKI_PASSWORD_FILE) }], defaultMode: 0o440 } }],
    volumeMounts: [{ name: 'loki-password', mountPath: LOKI_PASSWORD_DIR, readOnly: true }],
  };
}
