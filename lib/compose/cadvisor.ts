/**
 * The cAdvisor service: CPU, memory, CPU throttling and network of every container on the docker host, and
 * Prometheus's `cadvisor` job, whose relabelling gives each container's series the label contract's values,
 * the same the log agent gives its logs (lib/compose/names.ts): `namespace` = compose project, `app` =
 * compose service, `pod` = `container` = container name, `node` = COMPOSE_NODE_LABEL. Series of containers
 * outside the stack's project are dropped, as their log lines are. So the Containers dashboard and the
 * container alerts of the Kubernetes rendering work here unchanged.
 *
 * Relaxed, exactly: uid 0 (the image's user; what it reads is root-owned, so it needs no capability and every
 * one is dropped), and three host paths, read-only: /, /var/run, /sys (CADVISOR_HOST_MOUNTS). The one that
 * matters is /var/run, the host's /run: Docker's socket, which is the whole Engine API even mounted read-only,
 * i.e. root on the host (and containerd's, systemd's and D-Bus's sockets, each as much). cAdvisor has no other
 * way to learn which container a cgroup is, and containerd's socket is where the engine put it (/run/containerd
 * or /run/docker/containerd), so the directory rather than one file (a file bind mount would also go stale when
 * the engine restarts). Not privileged, no devices, not the host's process or network namespaces, as
 * upstream's own DaemonSet runs it.
 */
import { watchedProjects } from './user-apps';
import { StackConfig } from '../config';
import { imageString } from '../images';
import { CADVISOR_CONTAINER_LABELS, CADVISOR_HEALTH_PATH, CADVISOR_HOST_MOUNTS, CADVISOR_NAME, CADVISOR_PORT, cadvisorArgs } from '../components/cadvisor';
import { METRICS_PATH } from '../image-facts';
import { ScrapeConfig } from '../render/prometheus-config';
import { ComposeServiceEntry } from './compose-types';
import { COMPOSE_NODE_LABEL, composeContainerName, composeContractLabels, composeServiceName } from './names';
import { hardenedService, healthcheck, resourceLimits, wgetCheck } from './service-defaults';

export function composeCadvisorService(c: StackConfig): ComposeServiceEntry {
  const name = composeServiceName(c, 'cadvisor');
  return {
    name,
    namedVolumes: [],
    comment: [
      'cAdvisor: CPU, memory, throttling and network of every container, for the Containers dashboard and the',
      'container alerts. Relaxed: uid 0 (the image\'s; it reads only root-owned files, so cap_drop ALL stays) and',
      'the host\'s /, /var/run and /sys, read-only. /var/run holds Docker\'s socket: even read-only',
      'it is the whole Engine API, i.e. root on the host (so are containerd\'s, systemd\'s and D-Bus\'s sockets there);',
      'cAdvisor needs Docker\'s and containerd\'s to name containers. Turn cAdvisor off (compose.cadvisor.enabled:',
      'false) where no container may hold them. Not published; busybox wget checks /healthz.',
    ].join('\n'),
    service: {
      image: imageString(c.compose.cadvisor.image),
      container_name: composeContainerName(c, name),
      command: cadvisorArgs(),
      user: '0:0',
      volumes: CADVISOR_HOST_MOUNTS.map((m) => `${m.hostPath}:${m.mountPath}:ro`),
      healthcheck: healthcheck(wgetCheck(`http://127.0.0.1:${CADVISOR_PORT}${CADVISOR_HEALTH_PATH}`), { startPeriodSeconds: 30 }),
      ...hardenedService(),
      deploy: resourceLimits(c.compose.cadvisor.resources),
    },
  };
}

/** A compose label as cAdvisor names its series label: container_label_ and the label with [./-] as "_". */
function seriesLabel(label: string): string {
  return `container_label_${label.replace(/[^a-zA-Z0-9_]/g, '_')}`;
}

/**
 * Prometheus's cadvisor job on compose: the target is cAdvisor itself (its `up` carries its own container's
 * contract labels, so StackComponentDown covers it); each series is then relabelled to the container it
 * describes, and what is not a container of the stack's project (other projects, the root cgroup, cAdvisor's
 * machine_* series) is dropped.
 */
export function composeCadvisorScrapeConfig(c: StackConfig): ScrapeConfig {
  const service = composeServiceName(c, 'cadvisor');
  const [project, composeService] = CADVISOR_CONTAINER_LABELS.map(seriesLabel);
  return {
    job_name: CADVISOR_NAME,
    metrics_path: METRICS_PATH,
    // cAdvisor stamps each series with the time of its last housekeeping, which lags the scrape: Prometheus's
    // own time avoids stale-looking gaps (as the kubelet's cadvisor job does).
    honor_timestamps: false,
    static_configs: [{ targets: [`${service}:${CADVISOR_PORT}`], labels: { ...composeContractLabels(c, service) } }],
    metric_relabel_configs: [
      { source_labels: [project], regex: watchedProjects(c).join('|'), action: 'keep' },
      { source_labels: [project], target_label: 'namespace' },
      { source_labels: [composeService], target_label: 'app' },
      { source_labels: ['name'], target_label: 'pod' },
      { source_labels: ['name'], target_label: 'container' },
      { target_label: 'node', replacement: COMPOSE_NODE_LABEL },
      { regex: `${project}|${composeService}|name|id`, action: 'labeldrop' },
    ],
  };
}
