/**
 * node-exporter: one pod per node (DaemonSet, control-plane nodes included) serving the node's CPU, memory,
 * file systems, disks and network. Prometheus scrapes it with a job of its own (lib/render/prometheus-config.ts
 * nodeExporterScrapeConfig) that labels its series with the node's name, so its pods carry no prometheus.io
 * annotations.
 *
 * It cannot meet Pod Security `restricted` nor `baseline`, and lives beside the log agent in the namespace
 * labelled `privileged` (lib/k8s/namespaces.ts). Relaxed, exactly: the host's network (the node's interfaces
 * are only visible from the host's network namespace) and three hostPath volumes, all read-only: /proc, /sys
 * and /. Not the host's process namespace, which upstream's chart adds: the host's /proc mounted at /host/proc
 * shows the host's processes already, and with hostPID it could signal every host process of uid 65534
 * (Prometheus among them). Kept: uid 65534 (non-root), no capability, no privilege escalation, read-only root,
 * seccomp RuntimeDefault, no service-account token (it never calls the API).
 */
import { k8s } from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import {
  NODE_EXPORTER_HOST_MOUNTS, NODE_EXPORTER_IMAGE_FACTS, NODE_EXPORTER_K8S_LISTEN_ADDRESS, NODE_EXPORTER_NAME, NODE_EXPORTER_PORT, NODE_EXPORTER_PORT_NAME, NODE_EXPORTER_PROBE_PATH, nodeExporterArgs,
} from '../components/node-exporter';
import { NodeExporterSettings } from '../config';
import { componentLabels, selectorLabels } from './labels';
import { applyPodSettingsTo } from './pod-settings';
import { httpProbe, modelDefaults, resourceRequirements, restrictedContainerSecurity, restrictedPodSecurity } from './util';

export interface NodeExporterProps {
  /** Namespace of its DaemonSet: the node agents' namespace, Pod Security privileged. @default monitoring-agent */
  readonly namespace?: string;
  /** Its settings: the model's `nodeExporter` block. @default the model's defaults */
  readonly settings?: NodeExporterSettings;
}

export class NodeExporter extends Construct {
  constructor(scope: Construct, id: string, props: NodeExporterProps = {}) {
    super(scope, id);
    const defaults = modelDefaults();
    const s = props.settings ?? defaults.nodeExporter;
    const namespace = props.namespace ?? defaults.logAgent.namespace;
    const name = NODE_EXPORTER_NAME;
    const labels = componentLabels(name, 'exporter', s.image);

    const daemonSet = new k8s.KubeDaemonSet(this, 'daemon-set', {
      metadata: { name, namespace, labels },
      spec: {
        selector: { matchLabels: selectorLabels(name) },
        // One node at a time: its series have a gap of a few seconds on that node only.
        updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: k8s.IntOrString.fromNumber(1) } },
        template: {
          metadata: { labels },
          spec: {
            automountServiceAccountToken: false,
            // Relaxed: the host's network namespace, so node_network_* are the node's interfaces; it listens
            // on the node's address only (HOST_IP), port 9100.
            hostNetwork: true,
            // The image's USER is the name `nobody`: the kubelet needs its uid to check runAsNonRoot.
            securityContext: restrictedPodSecurity(NODE_EXPORTER_IMAGE_FACTS.user.uid),
            tolerations: [
              // Every node is measured, whatever NoSchedule taint it has: control-plane nodes (all of them, on
              // kind), GPU and dedicated pools (as upstream's chart tolerates them).
              { operator: 'Exists', effect: 'NoSchedule' },
            ],
            containers: [{
              name,
              image: `${s.image.repository}:${s.image.tag}`,
              imagePullPolicy: s.image.pullPolicy,
              args: nodeExporterArgs({ listenAddress: NODE_EXPORTER_K8S_LISTEN_ADDRESS, hostNetwork: true }),
              env: [{ name: 'HOST_IP', valueFrom: { fieldRef: { fieldPath: 'status.hostIP' } } }],
              ports: [{ name: NODE_EXPORTER_PORT_NAME, containerPort: NODE_EXPORTER_PORT, protocol: 'TCP' }],
              livenessProbe: httpProbe(NODE_EXPORTER_PROBE_PATH, NODE_EXPORTER_PORT_NAME, { timeoutSeconds: 5 }),
              readinessProbe: httpProbe(NODE_EXPORTER_PROBE_PATH, NODE_EXPORTER_PORT_NAME, { timeoutSeconds: 5 }),
              resources: resourceRequirements(s.resources),
              securityContext: restrictedContainerSecurity(),
              volumeMounts: NODE_EXPORTER_HOST_MOUNTS.map((m) => ({
                name: m.name,
                mountPath: m.mountPath,
                readOnly: true,
                // The host's later mounts (a new disk, a volume) appear under /host/root too.
                ...('propagation' in m ? { mountPropagation: 'HostToContainer' } : {}),
              })),
            }],
            // Relaxed: hostPath, read-only, each.
            volumes: NODE_EXPORTER_HOST_MOUNTS.map((m) => ({ name: m.name, hostPath: { path: m.hostPath, type: 'Directory' } })),
          },
        },
      },
    });
    applyPodSettingsTo(daemonSet, s);
  }
}
