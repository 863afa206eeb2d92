/**
 * Grafana Alloy as the node log agent (`logAgent.kind: alloy`): one pod per node (DaemonSet,
 * lib/node-log-agent.ts) tailing /var/log/pods and pushing to Loki, the successor of Promtail
 * (lib/promtail.ts) in the same place, with the same labels (lib/render/alloy-config.ts uses Promtail's
 * relabel rules).
 *
 * Like Promtail, it needs hostPath volumes and uid 0 (the image's user `alloy`, uid 473, cannot read the
 * kubelet's root:root 0640 log files), and nothing else beyond Pod Security `restricted`.
 */
import { k8s } from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { StackConfig } from './config';
import { componentLabels } from './labels';
import { nodeLogAgentDaemonSet } from './node-log-agent';
import { PodReader } from './pod-reader';
import { ALLOY_CONFIG_FILE_NAME, ALLOY_HTTP_PORT, ALLOY_STORAGE_PATH, renderAlloyKubernetesConfig } from './render/alloy-config';

/** Name of Alloy's objects (DaemonSet, ServiceAccount, ConfigMap prefix). */
export const ALLOY_NAME = 'alloy';
/** Where the rendered config.alloy is mounted. */
export const ALLOY_CONFIG_DIR = '/etc/alloy';
/** Host directory mounted at ALLOY_STORAGE_PATH: positions outlive the pod, as Promtail's do. */
export const ALLOY_HOST_DATA_DIR = '/run/alloy';

export interface AlloyProps {
  /** The resolved stack model (reads `logAgent`). */
  readonly config: StackConfig;
  /** Loki's full push URL, e.g. http://loki.monitoring.svc.cluster.local:3100/loki/api/v1/push. */
  readonly lokiPushUrl: string;
}

export class Alloy extends Construct {
  /** The rendered config.alloy. */
  public readonly configText: string;

  constructor(scope: Construct, id: string, props: AlloyProps) {
    super(scope, id);
    const c = props.config;
    const a = c.logAgent.alloy;
    const ns = c.logAgent.namespace;
    const name = ALLOY_NAME;
    const labels = componentLabels(name, 'log-agent', a.image);

    // discovery.kubernetes with role "pod" (and a field selector) lists and watches pods; nothing else.
    const identity = new PodReader(this, 'identity', { name, namespace: ns, labels });

    this.configText = renderAlloyKubernetesConfig(c, props.lokiPushUrl);
    const configData = { [ALLOY_CONFIG_FILE_NAME]: this.configText };
    const config = new k8s.KubeConfigMap(this, 'config', {
      metadata: { name: `${name}-config`, namespace: ns, labels },
      data: configData,
    });

    nodeLogAgentDaemonSet(this, 'daemon-set', {
      name,
      namespace: ns,
      labels,
      serviceAccountName: identity.serviceAccountName,
      image: a.image,
      resources: a.resources,
      args: [
        'run',
        `${ALLOY_CONFIG_DIR}/${ALLOY_CONFIG_FILE_NAME}`,
        // Alloy listens on 127.0.0.1 by default: the probes and Prometheus come from outside the pod.
        `--server.http.listen-addr=0.0.0.0:${ALLOY_HTTP_PORT}`,
        `--storage.path=${ALLOY_STORAGE_PATH}`,
        // No usage reports to Grafana Labs, as for Loki and Grafana.
        '--disable-reporting',
      ],
      port: ALLOY_HTTP_PORT,
      // /-/ready: 503 until the configuration is loaded, then 200 (a config that fails to load exits). Used
      // for liveness too: Alloy's docs call /-/healthy unfit for it (one unhealthy component, e.g. Loki
      // briefly away, would restart the agent).
      readyPath: '/-/ready',
      config: { configMapName: config.name, mountPath: ALLOY_CONFIG_DIR, data: configData },
      // Alloy's data directory (positions and component state) on the host, as Promtail's positions are.
      positions: { volumeName: 'data', hostPath: ALLOY_HOST_DATA_DIR, mountPath: ALLOY_STORAGE_PATH },
    });
  }
}
