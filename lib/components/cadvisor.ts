/**
 * cAdvisor on a single docker host (compose only: on Kubernetes each node's kubelet serves cAdvisor's series,
 * lib/render/prometheus-config.ts kubeletScrapeConfigs): every fact of how it runs, in one place. The image and
 * what it holds, its port and health path, and its flags, which keep the series to what the stack's dashboards
 * and alerts read.
 */
import { ALPINE_BUSYBOX_TOOLS, ImageFacts } from '../image-facts';
import type { ImageRef } from '../images';

/** Name of its compose service and its Prometheus job (the kubelet's cAdvisor job is named alike: job="cadvisor"). */
export const CADVISOR_NAME = 'cadvisor';

/**
 * cAdvisor v0.60.5 (ghcr.io: gcr.io has nothing newer than v0.52). v0.54.0 and later find containers of
 * Docker 29's containerd image store too (older ones fail to identify their read-write layer and lose their names).
 */
export const CADVISOR_IMAGE: ImageRef = { repository: 'ghcr.io/google/cadvisor', tag: '0.60.5' };

/** Its port (`-port`, default 8080): /metrics and /healthz. Not published: the demo app has 127.0.0.1:8080. */
export const CADVISOR_PORT = 8080;
export const CADVISOR_HEALTH_PATH = '/healthz';

/** The compose labels it turns into series labels, from which the job's relabelling takes the contract's. */
export const CADVISOR_CONTAINER_LABELS = ['com.docker.compose.project', 'com.docker.compose.service'] as const;

/**
 * Its flags: Docker's containers only (and the root cgroup); the housekeeping interval the kubelet uses (10 s;
 * cAdvisor's own default, 1 s, costs CPU for nothing at a 15 s scrape); only the compose labels as series
 * labels (by default every Docker label and none of them bounded); only the metric families the dashboards and
 * alerts read: CPU (usage and CFS throttling), memory, network.
 */
export function cadvisorArgs(): string[] {
  return [
    `--port=${CADVISOR_PORT}`,
    '--docker_only=true',
    '--housekeeping_interval=10s',
    '--store_container_labels=false',
    `--whitelisted_container_labels=${CADVISOR_CONTAINER_LABELS.join(',')}`,
    '--enable_metrics=cpu,memory,network',
  ];
}

/**
 * What it reads of the host, each mounted read-only, as upstream's own Kubernetes DaemonSet mounts them
 * (deploy/kubernetes/base/daemonset.yaml at v0.60.5, which runs it as root and not privileged), less /dev/disk
 * (for disk I/O series, which are off) and /var/lib/docker (with /rootfs/proc present it reads Docker's data
 * under /rootfs: container/docker/handler.go:154-157):
 * - `/` at /rootfs: the host's /proc (each container's network counters are read from /proc/<pid>/net/dev of
 *   its process) and Docker's data (each container's read-write layer id); its /proc also tells cAdvisor it
 *   runs in a container;
 * - /var/run (the host's /run): Docker's socket (container names and labels) and containerd's (Docker 29's
 *   image store), wherever the engine put the latter; and so every other socket there (systemd's, D-Bus);
 * - /sys: the cgroups (CPU and memory of each container).
 */
export const CADVISOR_HOST_MOUNTS = [
  { hostPath: '/', mountPath: '/rootfs' },
  { hostPath: '/var/run', mountPath: '/var/run' },
  { hostPath: '/sys', mountPath: '/sys' },
] as const;

/** The cAdvisor image: Alpine 3.23, no USER (root), busybox wget, an entrypoint script that execs cadvisor. */
export const CADVISOR_IMAGE_FACTS: ImageFacts = {
  image: CADVISOR_IMAGE,
  sources: [
    'google/cadvisor@v0.60.5 deploy/Dockerfile (FROM mirror.gcr.io/library/alpine:3.23; COPY cadvisor /usr/bin/cadvisor, entrypoint.sh, healthcheck.sh; no USER; ENTRYPOINT ["/usr/bin/entrypoint.sh"])',
    'google/cadvisor@v0.60.5 deploy/entrypoint.sh (exec /usr/bin/cadvisor -logtostderr "$@"), deploy/healthcheck.sh (busybox wget --spider http://localhost:<port>/healthz)',
  ],
  user: { written: '', uid: 0, gid: 0, source: 'no USER instruction' },
  workdir: '/',
  entrypoint: ['/usr/bin/entrypoint.sh'],
  cmd: [],
  env: {},
  directories: [{ path: '/tmp', uid: 0, gid: 0, mode: 0o1777 }],
  executables: ['/usr/bin/entrypoint.sh', '/usr/bin/healthcheck.sh', '/usr/bin/cadvisor', '/bin/busybox', ...ALPINE_BUSYBOX_TOOLS],
  programs: [{
    executable: 'entrypoint.sh',
    writes: [],
    reads: CADVISOR_HOST_MOUNTS.map((m) => ({ from: 'path' as const, path: m.mountPath, why: `the host's ${m.hostPath}` })),
    source: 'google/cadvisor@v0.60.5 lib/manager/manager.go:199 (in a container when /rootfs/proc exists), container/docker/handler.go:154-181 (/rootfs + the Docker root dir; the layer id; containerd for its image store), container/docker/factory.go:46 (the socket); it writes nothing (-logtostderr)',
  }],
};
