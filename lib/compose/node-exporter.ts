/**
 * The node-exporter service: the docker host's CPU, memory, file systems and disks, read from the host's
 * /proc, /sys and / mounted read-only under /host (the same flags as on Kubernetes). Not `pid: host`, which
 * upstream's README uses with procfs left at /proc: the host's /proc at /host/proc shows its processes
 * already, and in the host's process namespace it could signal every host process of uid 65534. Scraped by Prometheus's `node-exporter` job, whose series carry
 * `node` and `instance` = the host's contract name (COMPOSE_NODE_LABEL), as each node's do on Kubernetes.
 *
 * It stays on the stack's network, unpublished: with `network_mode: host` it would listen on every interface
 * of the host. The price: in its own network namespace the network collectors (NODE_EXPORTER_NETNS_COLLECTORS)
 * would describe its container, not the host, so they are off; the containers' network comes from cAdvisor.
 */
import { StackConfig } from '../config';
import { imageString } from '../images';
import { COMPOSE_NODE_LABEL, composeContainerName, composeServiceName } from './names';
import {
  NODE_EXPORTER_HOST_MOUNTS, NODE_EXPORTER_IMAGE_FACTS, NODE_EXPORTER_PORT, NODE_EXPORTER_PROBE_PATH, nodeExporterArgs,
} from '../components/node-exporter';
import { NODE_EXPORTER_JOB, ScrapeConfig } from '../render/prometheus-config';
import { METRICS_PATH } from '../image-facts';
import { ComposeServiceEntry } from './compose-types';
import { hardenedService, healthcheck, resourceLimits, wgetCheck } from './service-defaults';

export function composeNodeExporterService(c: StackConfig): ComposeServiceEntry {
  const name = composeServiceName(c, 'node-exporter');
  return {
    name,
    namedVolumes: [],
    comment: [
      'node-exporter: the host\'s CPU, memory, file systems and disks. Relaxed: the host\'s /proc, /sys and /',
      'bind-mounted read-only (rslave: disks mounted later appear too). Not on the host\'s network, so the',
      'collectors of its own network namespace are off (they would describe this container). Runs as nobody',
      '(65534) with no capability; busybox wget checks /.',
    ].join('\n'),
    service: {
      image: imageString(c.nodeExporter.image),
      container_name: composeContainerName(c, name),
      // `$` doubled: compose would interpolate it (the regexes end in `($|/)`); the container sees one.
      command: nodeExporterArgs({ listenAddress: `:${NODE_EXPORTER_PORT}`, hostNetwork: false }).map((a) => a.replace(/\$/g, '$$$$')),
      user: `${NODE_EXPORTER_IMAGE_FACTS.user.uid}:${NODE_EXPORTER_IMAGE_FACTS.user.gid}`,
      volumes: NODE_EXPORTER_HOST_MOUNTS.map((m) => `${m.hostPath}:${m.mountPath}:ro${'propagation' in m ? ',rslave' : ''}`),
      healthcheck: healthcheck(wgetCheck(`http://127.0.0.1:${NODE_EXPORTER_PORT}${NODE_EXPORTER_PROBE_PATH}`), { startPeriodSeconds: 10 }),
      ...hardenedService(),
      deploy: resourceLimits(c.nodeExporter.resources),
    },
  };
}

/** Prometheus's node-exporter job on compose: the one host, named as the contract names it. */
export function composeNodeExporterScrapeConfig(c: StackConfig): ScrapeConfig {
  return {
    job_name: NODE_EXPORTER_JOB,
    metrics_path: METRICS_PATH,
    static_configs: [{
      targets: [`${composeServiceName(c, 'node-exporter')}:${NODE_EXPORTER_PORT}`],
      labels: { node: COMPOSE_NODE_LABEL, instance: COMPOSE_NODE_LABEL },
    }],
  };
}
