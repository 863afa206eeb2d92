/**
 * Promtail: the node log agent, one pod per node (DaemonSet, lib/k8s/node-log-agent.ts) tailing /var/log/pods
 * and pushing to Loki.
 *
 * Promtail reached end of life on 2026-03-02 and grafana/promtail:3.6.11 is the last image ever published
 * (see lib/images.ts). It stays the default because it is the agent most guides still describe; Grafana
 * Alloy is its successor and plugs in at the same place (ObservabilityStack picks the agent from
 * `logAgent.kind`).
 *
 * Like Alloy, it needs hostPath volumes and uid 0, and nothing else beyond Pod Security `restricted`
 * (see lib/k8s/node-log-agent.ts).
 */
import { Construct } from 'constructs';
import { addNodeLogAgent, LogAgentProps } from './node-log-agent';
import { modelDefaults } from './util';
import { renderPromtailKubernetesConfig } from '../render/promtail-config';
import { toYaml } from '../render/yaml';
import { PROMTAIL_CONFIG_DIR, PROMTAIL_CONFIG_FILE_NAME, PROMTAIL_HTTP_PORT, PROMTAIL_NAME, PROMTAIL_POSITIONS_DIR, PROMTAIL_READY_PATH, promtailFlags } from '../components/promtail';

export type PromtailProps = LogAgentProps;

export class Promtail extends Construct {
  /** The rendered promtail.yaml. */
  public readonly configYaml: string;

  constructor(scope: Construct, id: string, props: PromtailProps) {
    super(scope, id);
    const defaults = modelDefaults();
    // kubernetes_sd role "pod" lists and watches pods (on this node: Promtail adds the spec.nodeName field
    // selector); it reads nodes only for `attach_metadata: {node: true}`, which we do not use. So: pods only.
    this.configYaml = toYaml(renderPromtailKubernetesConfig(props.loki.pushUrl, props.push ?? defaults.logAgent.push, props.loki));
    addNodeLogAgent(this, {
      name: PROMTAIL_NAME,
      namespace: props.namespace ?? defaults.logAgent.namespace,
      loki: props.loki,
      podSettings: props.podSettings ?? defaults.logAgent,
      settings: props.settings ?? defaults.logAgent.promtail,
      configFile: { name: PROMTAIL_CONFIG_FILE_NAME, text: this.configYaml, mountDir: PROMTAIL_CONFIG_DIR },
      args: promtailFlags(),
      port: PROMTAIL_HTTP_PORT,
      // /ready is 200 once a file is tailed; Promtail's own log file is always there (see
      // renderPromtailKubernetesConfig), so it does not flap on a quiet node.
      readyPath: PROMTAIL_READY_PATH,
      positions: { volumeName: 'positions', hostPath: PROMTAIL_POSITIONS_DIR, mountPath: PROMTAIL_POSITIONS_DIR },
    });
  }
}
