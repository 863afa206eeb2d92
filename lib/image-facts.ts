/**
 * The shape of what an image holds: the facts that decide whether a container can start with the user,
 * capabilities, volumes and probes a rendering gives it. Each component module (lib/components/) records
 * them for its image beside its pin; each fact was read in the image's build files at the pinned tag (the
 * Dockerfile, its base image, the program's source), and the README says which could not be confirmed there.
 * The host directories the log agents read are here too.
 *
 * test/container-start.test.ts walks every container of every rendering (cdk8s defaults and variants, every
 * Helm ci/ scenario, compose with each log agent) and proves from these facts that the process can reach
 * and write every path it must, read every file it must, and that every command a probe or healthcheck runs
 * exists in the image. A config that satisfies the docs but not the image fails there.
 *
 * Conventions: a directory not listed under `directories` is root:root 0755 when it exists (the runtime
 * also creates mount points that way); `executables` lists absolute paths (on Ubuntu Noble and Debian
 * bookworm /bin is /usr/bin, so both spellings are listed).
 */
import type { ImageRef } from './images';

/** A directory of the image with its owner, group and permission bits. */
export interface ImageDirectory {
  readonly path: string;
  readonly uid: number;
  readonly gid: number;
  readonly mode: number;
}

/** Where a path the program uses comes from. */
export type PathNeed = { readonly why: string } & (
  /** A fixed path. */
  | { readonly from: 'path'; readonly path: string }
  /** A command-line flag (`--name=value` or `-name=value`), or its default (relative: to the WORKDIR). */
  | { readonly from: 'flag'; readonly flag: string; readonly default: string }
  /** A positional argument of the effective argv (0 is the executable). */
  | { readonly from: 'arg'; readonly index: number }
  /** An environment variable (the rendering's, else the image's); no default: only when set. */
  | { readonly from: 'env'; readonly name: string; readonly default?: string }
  /** Keys of the YAML config file named by a flag; `dirOf`: the directory of the file the key names. */
  | { readonly from: 'config'; readonly fileFlag: string; readonly fileDefault: string; readonly keys: readonly string[]; readonly dirOf?: boolean; readonly default?: string }
  /** The log file globs in the config file (named by a flag or a positional argument): one example file of each. */
  | { readonly from: 'globs'; readonly fileFlag?: string; readonly fileArg?: number }
  /**
   * The paths a config file names where `pattern` matches (its first group), in a file named by a flag, a
   * positional argument or a fixed path: e.g. Alloy's `password_file = "…"`, Grafana's `$__file{…}`. None when
   * nothing matches.
   */
  | { readonly from: 'matches'; readonly pattern: string; readonly fileFlag?: string; readonly fileArg?: number; readonly filePath?: string });

/** What a program (the image's entrypoint, or another executable it ships) writes and reads when it runs. */
export interface ProgramFacts {
  /** Base name of argv[0] that runs it, e.g. `prometheus`, `run.sh`. */
  readonly executable: string;
  /** Directories it creates or writes files in. */
  readonly writes: readonly PathNeed[];
  /** Files (or directories) it must be able to read. */
  readonly reads: readonly PathNeed[];
  /** Where these facts come from. */
  readonly source: string;
}

export interface ImageFacts {
  /** The image these facts describe; `also` lists other names of the very same image. */
  readonly image: ImageRef;
  readonly also?: readonly string[];
  /** The build files read at the pinned tag. */
  readonly sources: readonly string[];
  /** USER as the Dockerfile writes it ("" when it sets none: root), and the uid and primary gid it maps to. */
  readonly user: { readonly written: string; readonly uid: number; readonly gid: number; readonly source: string };
  readonly workdir: string;
  readonly entrypoint: readonly string[];
  readonly cmd: readonly string[];
  /** The image's ENV that matters here (PATH, paths). */
  readonly env: Readonly<Record<string, string>>;
  /** Directories that are not root:root 0755. */
  readonly directories: readonly ImageDirectory[];
  /** Every executable a command, probe or healthcheck may call (absolute paths). */
  readonly executables: readonly string[];
  /** The programs the containers of the stack run from this image. */
  readonly programs: readonly ProgramFacts[];
}

/** Both spellings of each tool on a distribution whose /bin is a link to /usr/bin. */
function usrMerged(...names: string[]): string[] {
  return names.flatMap((n) => [`/bin/${n}`, `/usr/bin/${n}`]);
}

/** Tools of an Ubuntu Noble or Debian bookworm base that healthcheck scripts use (bash, coreutils, grep). */
export const DEBIAN_BASE_TOOLS = usrMerged('bash', 'sh', 'dash', 'head', 'cat', 'grep', 'mkdir', 'mv', 'chmod', 'tr', 'base64', 'env', 'sleep', 'ls');

/** busybox applets, hard-linked into /bin (prometheus/busybox on docker-library busybox:uclibc, defconfig). */
export const BUSYBOX_TOOLS = ['sh', 'ash', 'wget', 'head', 'cat', 'grep', 'mkdir', 'mv', 'chmod', 'tr', 'base64', 'env', 'sleep', 'ls', 'printf', 'echo'].map((n) => `/bin/${n}`);

/** Alpine's busybox: applets in /bin and /usr/bin as Alpine installs them. */
export const ALPINE_BUSYBOX_TOOLS = [
  ...['sh', 'ash', 'cat', 'chmod', 'mkdir', 'mv', 'ls', 'grep', 'base64', 'echo', 'sleep'].map((n) => `/bin/${n}`),
  ...['head', 'tr', 'wget', 'env', 'printf'].map((n) => `/usr/bin/${n}`),
];

/** A host directory the stack mounts, and the layout below it (directories, then files at `fileDepth`). */
export interface HostDirectory {
  readonly path: string;
  readonly dir: ImageDirectory;
  /** Owner and mode of the directories below it. */
  readonly subdirs: { readonly uid: number; readonly gid: number; readonly mode: number };
  /** Owner and mode of the files, `fileDepth` levels below it. */
  readonly files: { readonly uid: number; readonly gid: number; readonly mode: number };
  readonly fileDepth: number;
  readonly source: string;
}

/**
 * The path at which every component of the stack serves its metrics (Prometheus's own default
 * `metrics_path`; Prometheus, Loki, Promtail, Alloy and Grafana all serve /metrics).
 */
export const METRICS_PATH = '/metrics';

/** Where the kubelet writes container logs: /var/log/pods/<namespace>_<pod>_<uid>/<container>/<n>.log. */
export const POD_LOGS_DIR = '/var/log/pods';
/** Where Docker keeps each container's json-file logs (`<id>/<id>-json.log`) by default. */
export const DOCKER_CONTAINERS_DIR = '/var/lib/docker/containers';

/** A root-owned host directory of which only the directory itself is modelled (fileDepth 0: nothing below). */
function hostDirectoryOnly(p: string, mode: number, source: string): HostDirectory {
  const owner = { uid: 0, gid: 0, mode };
  return { path: p, dir: { path: p, ...owner }, subdirs: owner, files: owner, fileDepth: 0, source };
}

/** The host directories the stack mounts: what the log agents, node-exporter and cAdvisor read. */
export const HOST_DIRECTORIES: readonly HostDirectory[] = [
  {
    path: POD_LOGS_DIR,
    dir: { path: POD_LOGS_DIR, uid: 0, gid: 0, mode: 0o755 },
    subdirs: { uid: 0, gid: 0, mode: 0o755 },
    files: { uid: 0, gid: 0, mode: 0o640 },
    fileDepth: 3,
    source: 'kubelet: log directories 0755, container log files root:root 0640 (kubernetes/kubernetes#124349)',
  },
  {
    path: DOCKER_CONTAINERS_DIR,
    dir: { path: DOCKER_CONTAINERS_DIR, uid: 0, gid: 0, mode: 0o710 },
    subdirs: { uid: 0, gid: 0, mode: 0o710 },
    files: { uid: 0, gid: 0, mode: 0o640 },
    fileDepth: 2,
    source: 'moby: container directories root:root 0710, json-file logs root:root 0640',
  },
  // What node-exporter and cAdvisor read: only the directories themselves are modelled (what lies below is
  // world-readable for node-exporter's nobody, and root-owned for cAdvisor's root).
  hostDirectoryOnly('/proc', 0o555, 'Linux: procfs is mounted dr-xr-xr-x root:root'),
  hostDirectoryOnly('/sys', 0o555, 'Linux: sysfs is mounted dr-xr-xr-x root:root'),
  hostDirectoryOnly('/', 0o755, 'Filesystem Hierarchy Standard: / is root:root 0755'),
];
