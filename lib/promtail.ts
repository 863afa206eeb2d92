/**
 * Promtail: the node log agent, one pod per node (DaemonSet) tailing /var/log/pods and pushing to Loki.
 *
 * Promtail reached end of life on 2026-03-02 and grafana/promtail:3.6.11 is the last image ever published
 * (see lib/images.ts). It stays the default because it is the agent most guides still describe; Grafana
 * Alloy is its successor and plugs in at the same place (ObservabilityStack picks the agent from
 * `logAgent.kind`).
 *
 * It is the one workload that cannot meet Pod Security `restricted` (nor `baseline`): reading the kubelet's
 * log files needs hostPath volumes and uid 0. It therefore lives in its own namespace, labelled
 * `privileged` by lib/namespaces.ts, and relaxes exactly those two things; everything else stays locked down.
 */
import { k8s } from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { StackConfig } from './config';
import { configChecksum, httpProbe, resourceRequirements, restrictedContainerSecurity, scrapeAnnotations } from './k8s-util';
import { componentLabels, selectorLabels } from './labels';
import { PodReader } from './pod-reader';
import { POD_LOGS_DIR, PROMTAIL_HTTP_PORT, PROMTAIL_POSITIONS_DIR, renderPromtailKubernetesConfig } from './render/promtail-config';
import { toYaml } from './render/yaml';

/** Name of Promtail's objects (DaemonSet, ServiceAccount, ConfigMap prefix). */
export const PROMTAIL_NAME = 'promtail';
/** Where the rendered promtail.yaml is mounted. */
export const PROMTAIL_CONFIG_FILE = '/etc/promtail/promtail.yaml';

export interface PromtailProps {
  /** The resolved stack model (reads `logAgent`). */
  readonly config: StackConfig;
  /** Loki's full push URL, e.g. http://loki.monitoring.svc.cluster.local:3100/loki/api/v1/push. */
  readonly lokiPushUrl: string;
}

export class Promtail extends Construct {
  /** The rendered promtail.yaml. */
  public readonly configYaml: string;

  constructor(scope: Construct, id: string, props: PromtailProps) {
    super(scope, id);
    const c = props.config;
    const p = c.logAgent.promtail;
    const ns = c.logAgent.namespace;
    const name = PROMTAIL_NAME;
    const labels = componentLabels(name, 'log-agent', p.image);

    // kubernetes_sd role "pod" lists and watches pods (on this node: Promtail adds the spec.nodeName field
    // selector); it reads nodes only for `attach_metadata: {node: true}`, which we do not use. So: pods only.
    const identity = new PodReader(this, 'identity', { name, namespace: ns, labels });

    this.configYaml = toYaml(renderPromtailKubernetesConfig(c, props.lokiPushUrl));
    const configData = { 'promtail.yaml': this.configYaml };
    const config = new k8s.KubeConfigMap(this, 'config', {
      metadata: { name: `${name}-config`, namespace: ns, labels },
      data: configData,
    });

    new k8s.KubeDaemonSet(this, 'daemon-set', {
      metadata: { name, namespace: ns, labels },
      spec: {
        selector: { matchLabels: selectorLabels(name) },
        template: {
          metadata: {
            labels,
            // Prometheus's pod job discovers every namespace, this one included.
            annotations: {
              ...scrapeAnnotations(PROMTAIL_HTTP_PORT),
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
            // container directories are 0755 (traversable by anyone); writing the positions file into
            // root-owned /run/promtail needs none either. DAC_OVERRIDE/DAC_READ_SEARCH would only matter
            // for files uid 0 does not own, and there are none here.
            tolerations: [
              // Control-plane nodes run pods too (all of them, on kind): collect their logs as well.
              { key: 'node-role.kubernetes.io/control-plane', operator: 'Exists', effect: 'NoSchedule' },
              { key: 'node-role.kubernetes.io/master', operator: 'Exists', effect: 'NoSchedule' },
            ],
            terminationGracePeriodSeconds: 30,
            containers: [{
              name,
              image: `${p.image.repository}:${p.image.tag}`,
              imagePullPolicy: p.image.pullPolicy,
              // No -config.expand-env: the file needs no variables, and expansion would halve backslashes in regexes.
              args: [`-config.file=${PROMTAIL_CONFIG_FILE}`],
              env: [
                // Promtail tails only targets whose __host__ equals $HOSTNAME, and selects this node's pods by it.
                { name: 'HOSTNAME', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
              ],
              ports: [{ name: 'http', containerPort: PROMTAIL_HTTP_PORT, protocol: 'TCP' }],
              // /ready is 200 once a file is tailed; Promtail's own log file is always there (see
              // renderPromtailKubernetesConfig), so it does not flap on a quiet node.
              readinessProbe: httpProbe('/ready', 'http', { initialDelaySeconds: 10, periodSeconds: 10, failureThreshold: 5 }),
              // Lenient: restart only a Promtail that has tailed nothing for about five minutes (lost API watch,
              // unreadable mounts). Positions are on the host, so a restart loses nothing and resends at most
              // the lines read since the last positions sync (10 s).
              livenessProbe: httpProbe('/ready', 'http', { initialDelaySeconds: 60, periodSeconds: 30, timeoutSeconds: 5, failureThreshold: 10 }),
              resources: resourceRequirements(p.resources),
              securityContext: restrictedContainerSecurity(),
              volumeMounts: [
                { name: 'config', mountPath: '/etc/promtail', readOnly: true },
                // Relaxed: hostPath, read-only: the kubelet's container logs (CRI format; kind runs containerd).
                { name: 'pods', mountPath: POD_LOGS_DIR, readOnly: true },
                // Relaxed: hostPath, read-write: the positions file outlives the pod, so a restarted or
                // upgraded Promtail continues where it stopped. The only writable host path.
                { name: 'positions', mountPath: PROMTAIL_POSITIONS_DIR },
                { name: 'tmp', mountPath: '/tmp' },
              ],
            }],
            volumes: [
              { name: 'config', configMap: { name: config.name } },
              { name: 'pods', hostPath: { path: POD_LOGS_DIR, type: 'Directory' } },
              { name: 'positions', hostPath: { path: PROMTAIL_POSITIONS_DIR, type: 'DirectoryOrCreate' } },
              // The root filesystem is read-only; nothing known writes here, but a Go library's temp file should not crash it.
              { name: 'tmp', emptyDir: { sizeLimit: k8s.Quantity.fromString('16Mi') } },
            ],
          },
        },
      },
    });
  }
}
