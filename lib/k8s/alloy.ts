/**
 * Grafana Alloy as the node log agent (`logAgent.kind: alloy`): one pod per node (DaemonSet,
 * lib/k8s/node-log-agent.ts) tailing /var/log/pods and pushing to Loki, the successor of Promtail
 * (lib/k8s/promtail.ts) in the same place, with the same labels (lib/render/alloy-config.ts uses Promtail's
 * relabel rules).
 *
 * Like Promtail, it needs hostPath volumes and uid 0 (the image's user `alloy`, uid 473, cannot read the
 * kubelet's root:root 0640 log files), and nothing else beyond Pod Security `restricted`.
 */
import { Construct } from 'constructs';
import { addNodeLogAgent, LogAgentProps } from './node-log-agent';
import { modelDefaults } from './util';
import { alloyPushAttributes, renderAlloyKubernetesConfig } from '../render/alloy-config';
import { ALLOY_CONFIG_DIR, ALLOY_CONFIG_FILE_NAME, ALLOY_HOST_DATA_DIR, ALLOY_HTTP_PORT, ALLOY_NAME, ALLOY_READY_PATH, ALLOY_STORAGE_PATH, alloyRunArgs } from '../components/alloy';


export type AlloyProps = LogAgentProps;

export class Alloy extends Construct {
  /** The rendered config.alloy. */
  public readonly configText: string;

  constructor(scope: Construct, id: string, props: AlloyProps) {
    super(scope, id);
    const defaults = modelDefaults();
    // discovery.kubernetes with role "pod" (and a field selector) lists and watches pods; nothing else.
    this.configText = renderAlloyKubernetesConfig(props.loki.pushUrl, alloyPushAttributes(props.push ?? defaults.logAgent.push), props.loki);
    addNodeLogAgent(this, {
      name: ALLOY_NAME,
      namespace: props.namespace ?? defaults.logAgent.namespace,
      loki: props.loki,
      podSettings: props.podSettings ?? defaults.logAgent,
      settings: props.settings ?? defaults.logAgent.alloy,
      configFile: { name: ALLOY_CONFIG_FILE_NAME, text: this.configText, mountDir: ALLOY_CONFIG_DIR },
      args: alloyRunArgs(),
      port: ALLOY_HTTP_PORT,
      // /-/ready: 503 until the configuration is loaded, then 200 (a config that fails to load exits). Used
      // for liveness too: Alloy's docs call /-/healthy unfit for it (one unhealthy component, e.g. Loki
      // briefly away, would restart the agent).
      readyPath: ALLOY_READY_PATH,
      // Alloy's data directory (positions and component state) on the host, as Promtail's positions are.
      positions: { volumeName: 'data', hostPath: ALLOY_HOST_DATA_DIR, mountPath: ALLOY_STORAGE_PATH },
    });
  }
}
