/**
 * node-exporter: every fact of how it runs, in one place (lib/k8s/node-exporter.ts, lib/compose/node-exporter.ts,
 * the chart and the scrape jobs read them from here): the image and what it holds, its port, the host
 * directories it reads and where they are mounted, and its flags.
 *
 * It describes the node, not itself: CPU, memory, file systems, disks and network of the host. So it reads the
 * host's /proc, /sys and root file system, mounted read-only under /host, and runs as `nobody` with no
 * capability: everything it reads there is world-readable. It needs not the host's process namespace: the
 * host's procfs mounted at /host/proc already shows the host's processes and mounts (/host/proc/1 is the
 * host's init), so neither rendering gives it (upstream's chart does, for a procfs left at /proc).
 */
import { BUSYBOX_TOOLS, ImageFacts } from '../image-facts';
import type { ImageRef } from '../images';

/** Name of its objects and its compose service, and the `app.kubernetes.io/name` its scrape job selects its pods by. */
export const NODE_EXPORTER_NAME = 'node-exporter';

/** node-exporter v1.12.1 (2026-07-14; the busybox image, as prom/prometheus's). */
export const NODE_EXPORTER_IMAGE: ImageRef = { repository: 'quay.io/prometheus/node-exporter', tag: 'v1.12.1' };

/** Its port: metrics at /metrics, and / answers 200 (the probes use it). */
export const NODE_EXPORTER_PORT = 9100;
export const NODE_EXPORTER_PORT_NAME = 'metrics';
/** node_exporter's landing page: 200 while it serves. */
export const NODE_EXPORTER_PROBE_PATH = '/';

/** The listen address on Kubernetes: the node's own address only (HOST_IP, from the pod's status), not every interface of the host. */
export const NODE_EXPORTER_K8S_LISTEN_ADDRESS = `[$(HOST_IP)]:${NODE_EXPORTER_PORT}`;

/** The host's directories it reads, each mounted read-only at a path of its own (the flags below name them). */
export const NODE_EXPORTER_HOST_MOUNTS = [
  /** Host processes, memory, CPU, load, mounts (/proc/1/mountinfo: the host's file systems). */
  { name: 'proc', hostPath: '/proc', mountPath: '/host/proc' },
  /** Devices, network interfaces, thermal zones, power supplies. */
  { name: 'sys', hostPath: '/sys', mountPath: '/host/sys' },
  /**
   * The host's root file system, for the size and free space of every mounted file system (statfs). The
   * host's later mounts (a new disk, a volume) propagate into it: Kubernetes' HostToContainer, Docker's rslave.
   */
  { name: 'root', hostPath: '/', mountPath: '/host/root', propagation: true },
] as const satisfies ReadonlyArray<{ name: string; hostPath: string; mountPath: string; propagation?: boolean }>;

const [PROC, SYS, ROOT] = NODE_EXPORTER_HOST_MOUNTS;

/**
 * File systems that are not the node's disks: those of the kernel and of containers (their overlays and the
 * kubelet's volume mounts are the containers' own, which cAdvisor reports), so the node's file-system panels
 * and alerts see the disks only. node_exporter v1.12.1's own default (collector/filesystem_linux.go
 * defMountPointsExcluded) plus containerd's, Docker's runtime and the kubelet's mounts, as kube-prometheus-stack adds them.
 */
export const NODE_EXPORTER_MOUNT_POINTS_EXCLUDE =
  '^/(dev|proc|run/credentials/.+|sys|var/lib/docker/.+|var/lib/containers/storage/.+|run/containerd/.+|run/docker/.+|var/lib/containerd/.+|var/lib/kubelet/.+)($|/)';
/** The same as v1.12.1's default, written out so that every version run with these flags (Debian's 1.5 in the tests) leaves out the same. */
export const NODE_EXPORTER_FS_TYPES_EXCLUDE =
  '^(autofs|binfmt_misc|bpf|cgroup2?|configfs|debugfs|devpts|devtmpfs|fusectl|hugetlbfs|iso9660|mqueue|nsfs|overlay|proc|procfs|pstore|rpc_pipefs|securityfs|selinuxfs|squashfs|sysfs|tracefs|erofs)$';
/** Network devices that are containers' ends of their veth pairs (and Calico's): the pods' traffic, which cAdvisor reports per pod. */
export const NODE_EXPORTER_NETWORK_DEVICES_EXCLUDE = '^(veth.*|cali.*|[a-f0-9]{15})$';

/**
 * Collectors that read the network of the process's own network namespace (/proc/net is /proc/self/net,
 * /proc/sys/net is the reader's too, and v1.12.1's netdev and arp ask the kernel over netlink, from that
 * namespace). On a host that does not give node-exporter the host's network (compose, where it sits on the
 * stack's network) they would describe the exporter's container, not the host, so there they are off.
 * (netclass reads /sys/class/net of the host's sysfs, mounted in the host's namespace: the host's interfaces.)
 */
export const NODE_EXPORTER_NETNS_COLLECTORS = ['arp', 'conntrack', 'ipvs', 'netdev', 'netstat', 'nfs', 'nfsd', 'sockstat', 'udp_queues'] as const;

export interface NodeExporterArgsOptions {
  /** `--web.listen-address`. */
  readonly listenAddress: string;
  /** Whether it sees the host's network (Kubernetes: hostNetwork); else the collectors of its own network are off. */
  readonly hostNetwork: boolean;
}

/** Its command-line flags: where the host's directories are, what is not the node's, where it listens. */
export function nodeExporterArgs(o: NodeExporterArgsOptions): string[] {
  return [
    `--path.procfs=${PROC.mountPath}`,
    `--path.sysfs=${SYS.mountPath}`,
    `--path.rootfs=${ROOT.mountPath}`,
    `--path.udev.data=${ROOT.mountPath}/run/udev/data`,
    `--web.listen-address=${o.listenAddress}`,
    `--collector.filesystem.mount-points-exclude=${NODE_EXPORTER_MOUNT_POINTS_EXCLUDE}`,
    `--collector.filesystem.fs-types-exclude=${NODE_EXPORTER_FS_TYPES_EXCLUDE}`,
    `--collector.netclass.ignored-devices=${NODE_EXPORTER_NETWORK_DEVICES_EXCLUDE}`,
    ...(o.hostNetwork
      ? [`--collector.netdev.device-exclude=${NODE_EXPORTER_NETWORK_DEVICES_EXCLUDE}`]
      : NODE_EXPORTER_NETNS_COLLECTORS.map((c) => `--no-collector.${c}`)),
  ];
}

/** The node-exporter image: one static binary on prometheus/busybox, as `nobody`. */
export const NODE_EXPORTER_IMAGE_FACTS: ImageFacts = {
  image: NODE_EXPORTER_IMAGE,
  also: [`prom/node-exporter:${NODE_EXPORTER_IMAGE.tag}`],
  sources: [
    'prometheus/node_exporter@v1.12.1 Dockerfile (FROM quay.io/prometheus/busybox-${OS}-${ARCH}:latest; COPY node_exporter /bin/node_exporter; EXPOSE 9100; USER nobody; ENTRYPOINT ["/bin/node_exporter"])',
    'prometheus/busybox, docker-library/busybox, buildroot 2026.05.1 (as for prom/prometheus: nobody is 65534:65534, busybox applets in /bin)',
  ],
  user: { written: 'nobody', uid: 65534, gid: 65534, source: 'Dockerfile USER nobody; buildroot 2026.05.1 system/skeleton/etc/passwd' },
  workdir: '/',
  entrypoint: ['/bin/node_exporter'],
  cmd: [],
  env: {},
  directories: [{ path: '/tmp', uid: 0, gid: 0, mode: 0o1777 }],
  executables: ['/bin/node_exporter', '/bin/busybox', ...BUSYBOX_TOOLS],
  programs: [{
    executable: 'node_exporter',
    writes: [],
    reads: [
      { from: 'flag', flag: '--path.procfs', default: '/proc', why: 'the host\'s processes, memory, CPU and mounts' },
      { from: 'flag', flag: '--path.sysfs', default: '/sys', why: 'the host\'s devices and interfaces' },
      { from: 'flag', flag: '--path.rootfs', default: '/', why: 'the host\'s file systems (statfs of each mount point under it)' },
    ],
    source: 'prometheus/node_exporter@v1.12.1 collector/paths.go (path.procfs, path.sysfs, path.rootfs, path.udev.data), collector/filesystem_linux.go (mounts from <procfs>/1/mountinfo, statfs under <rootfs>); it writes nothing',
  }],
};
