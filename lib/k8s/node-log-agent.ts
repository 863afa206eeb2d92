/**
 * The DaemonSet shape both node log agents share (Promtail, lib/k8s/promtail.ts; Grafana Alloy, lib/k8s/alloy.ts):
 * one pod per node, control-plane nodes included, reading the kubelet's log files from /var/log/pods and
 * keeping its read positions in a host directory, so a restarted or upgraded agent continues where it
 * stopped.
 *
 * It is the one workload that cannot meet Pod Security `restricted` (nor `baseline`): reading the kubelet's
 * log files needs hostPath volumes and uid 0. The agent therefore lives in its own namespace, labelled
 * `privileged` by lib/k8s/namespaces.ts, and relaxes exactly those two things; everything else stays locked down.
 */
import { k8s } from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { ImageSettings, LogAgentPushSettings, PodSettings, Resources } from '../config';
import type { LokiEndpoint } from '../components/loki';
import { configChecksum, httpProbe, lokiPasswordVolume, resourceRequirements, restrictedContainerSecurity, scrapeAnnotations } from './util';
import { applyPodSettingsTo } from './pod-settings';
import { componentLabels, selectorLabels } from './labels';
import { PodReader } from './pod-reader';
import { POD_LOGS_DIR } from '../image-facts';

/** What each log agent construct (Promtail, Alloy) takes. */
export interface LogAgentProps {
  /** The Loki it pushes to: its push URL (fully qualified: the agent runs in another namespace) and tenant. */
  readonly loki: LokiEndpoint;
  /** Namespace of the agent, labelled Pod Security privileged (lib/k8s/namespaces.ts). @default monitoring-agent */
  readonly namespace?: string;
  /** The agent's image and resources (the model's `logAgent.promtail` or `logAgent.alloy`). @default the model's defaults */
  readonly settings?: AgentSettings;
  /** Where and how the agent's pods run (the model's `logAgent` pod settings). @default the model's defaults: none */
  readonly podSettings?: PodSettings;
  /** How it batches and pushes lines to Loki, and retries (the model's `logAgent.push`). @default the model's defaults */
  readonly push?: LogAgentPushSettings;
}

/** A log agent's own settings: its image and resources. */
export interface AgentSettings {
  readonly image: ImageSettings;
  readonly resources: Resources;
}

export interface NodeLogAgentProps {
  /** Name of the DaemonSet, its container, ServiceAccount and ConfigMap prefix. */
  readonly name: string;
  /** Namespace of the agent's objects. */
  readonly namespace: string;
  /** The agent's image and resources. */
  readonly settings: AgentSettings;
  /** The agent's pod settings. */
  readonly podSettings: PodSettings;
  /** The agent's rendered config file: its name in the ConfigMap, its text, and the directory it is mounted at. */
  readonly configFile: { readonly name: string; readonly text: string; readonly mountDir: string };
  readonly args: string[];
  /** The Loki it pushes to: with basic auth, the Secret its password is mounted from. */
  readonly loki: Pick<LokiEndpoint, 'passwordSecret'>;
  /** The agent's HTTP port (probes, /metrics). */
  readonly port: number;
  /** Path of the readiness probe, also used, leniently, for liveness. */
  readonly readyPath: string;
  /** The host directory holding the agent's positions, the volume's name, and where it is mounted. */
  readonly positions: { readonly volumeName: string; readonly hostPath: string; readonly mountPath: string };
}

/**
 * Adds a node log agent's objects to `scope`: its identity (PodReader: the discovery of either agent lists and
 * watches pods, nothing else), the ConfigMap with its config file, and the DaemonSet.
 */
export function addNodeLogAgent(scope: Construct, p: NodeLogAgentProps): void {
  const namespace = p.namespace;
  const password = lokiPasswordVolume(p.loki);
  const labels = componentLabels(p.name, 'log-agent', p.settings.image);
  const identity = new PodReader(scope, 'identity', { name: p.name, namespace, labels });
  const configData = { [p.configFile.name]: p.configFile.text };
  const config = new k8s.KubeConfigMap(scope, 'config', {
    metadata: { name: `${p.name}-config`, namespace, labels },
    data: configData,
  });
  const daemonSet = new k8s.KubeDaemonSet(scope, 'daemon-set', {
    metadata: { name: p.name, namespace, labels },
    spec: {
      selector: { matchLabels: selectorLabels(p.name) },
      template: {
        metadata: {
          labels,
          // Prometheus's pod job discovers every namespace, this one included.
          annotations: {
            ...scrapeAnnotations(p.port),
            'checksum/config': configChecksum(configData),
          },
        },
        spec: {
          serviceAccountName: identity.serviceAccountName,
          automountServiceAccountToken: true,
          // No priorityClassName: system-node-critical is meant for what keeps a node working, and a log
          // agent is not that; it would also evict workloads to make room on a full node.
          securityContext: {
            // Relaxed: uid 0, because the kubelet writes container logs as root:root 0640
            // (kubernetes/kubernetes#124349); as the files' owner, uid 0 reads them with no capability.
            runAsUser: 0,
            runAsGroup: 0,
            // Relaxed: follows from uid 0.
            runAsNonRoot: false,
            seccompProfile: { type: 'RuntimeDefault' },
          },
          // Kept whole: no privilege escalation, read-only root, ALL capabilities dropped and none added.
          // Reading needs none: the files' owner bit covers uid 0, and /var/log/pods and its pod and
          // container directories are 0755 (traversable by anyone); writing the positions into a
          // root-owned host directory needs none either. DAC_OVERRIDE/DAC_READ_SEARCH would only matter
          // for files uid 0 does not own, and there are none here.
          tolerations: [
            // Control-plane nodes run pods too (all of them, on kind): collect their logs as well.
            { key: 'node-role.kubernetes.io/control-plane', operator: 'Exists', effect: 'NoSchedule' },
            { key: 'node-role.kubernetes.io/master', operator: 'Exists', effect: 'NoSchedule' },
          ],
          terminationGracePeriodSeconds: 30,
          containers: [{
            name: p.name,
            image: `${p.settings.image.repository}:${p.settings.image.tag}`,
            imagePullPolicy: p.settings.image.pullPolicy,
            args: p.args,
            env: [
              // Each agent selects this node's pods by it (Promtail also tails only targets whose __host__ equals it).
              { name: 'HOSTNAME', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
            ],
            ports: [{ name: 'http', containerPort: p.port, protocol: 'TCP' }],
            readinessProbe: httpProbe(p.readyPath, 'http', { initialDelaySeconds: 10, periodSeconds: 10, failureThreshold: 5 }),
            // Lenient: restart only an agent that has stayed unready for about five minutes (lost API watch,
            // unreadable mounts). Positions are on the host, so a restart loses nothing and resends at most
            // the lines read since the last positions sync.
            livenessProbe: httpProbe(p.readyPath, 'http', { initialDelaySeconds: 60, periodSeconds: 30, timeoutSeconds: 5, failureThreshold: 10 }),
            resources: resourceRequirements(p.settings.resources),
            securityContext: restrictedContainerSecurity(),
            volumeMounts: [
              { name: 'config', mountPath: p.configFile.mountDir, readOnly: true },
              // Relaxed: hostPath, read-only: the kubelet's container logs (CRI format; kind runs containerd).
              { name: 'pods', mountPath: POD_LOGS_DIR, readOnly: true },
              // Relaxed: hostPath, read-write: the positions outlive the pod. The only writable host path.
              { name: p.positions.volumeName, mountPath: p.positions.mountPath },
              { name: 'tmp', mountPath: '/tmp' },
              // A Loki of the user's behind basic auth: the password its config names (password_file).
              ...password.volumeMounts,
            ],
          }],
          volumes: [
            { name: 'config', configMap: { name: config.name } },
            { name: 'pods', hostPath: { path: POD_LOGS_DIR, type: 'Directory' } },
            { name: p.positions.volumeName, hostPath: { path: p.positions.hostPath, type: 'DirectoryOrCreate' } },
            // The root filesystem is read-only; nothing known writes here, but a Go library's temp file should not crash it.
            { name: 'tmp', emptyDir: { sizeLimit: k8s.Quantity.fromString('16Mi') } },
            ...password.volumes,
          ],
        },
      },
    },
  });
  applyPodSettingsTo(daemonSet, p.podSettings);
}
