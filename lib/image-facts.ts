/**
 * What each pinned image holds, beside the pins (lib/images.ts): the facts that decide whether a container
 * can start with the user, capabilities, volumes and probes a rendering gives it. Each fact was read in the
 * image's build files at the pinned tag (the Dockerfile, its base image, the program's source); `source`
 * says where, and the README says which facts could not be confirmed at the tag.
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
import { IMAGES, ImageName, ImageRef, imageString } from './images';

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
  | { readonly from: 'globs'; readonly fileFlag?: string; readonly fileArg?: number });

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
const DEBIAN_BASE_TOOLS = usrMerged('bash', 'sh', 'dash', 'head', 'cat', 'grep', 'mkdir', 'mv', 'chmod', 'tr', 'base64', 'env', 'sleep', 'ls');

/** busybox applets, hard-linked into /bin (prometheus/busybox on docker-library busybox:uclibc, defconfig). */
const BUSYBOX_TOOLS = ['sh', 'ash', 'wget', 'head', 'cat', 'grep', 'mkdir', 'mv', 'chmod', 'tr', 'base64', 'env', 'sleep', 'ls', 'printf', 'echo'].map((n) => `/bin/${n}`);

/** Alpine's busybox: applets in /bin and /usr/bin as Alpine installs them. */
const ALPINE_BUSYBOX_TOOLS = [
  ...['sh', 'ash', 'cat', 'chmod', 'mkdir', 'mv', 'ls', 'grep', 'base64', 'echo', 'sleep'].map((n) => `/bin/${n}`),
  ...['head', 'tr', 'wget', 'env', 'printf'].map((n) => `/usr/bin/${n}`),
];

const PROMETHEUS_PROGRAM: ProgramFacts = {
  executable: 'prometheus',
  writes: [
    // The TSDB (wal/, chunks_head/, blocks), its lock file and queries.active all live in the data directory.
    { from: 'flag', flag: '--storage.tsdb.path', default: 'data/', why: 'the TSDB, its lock and the active query log' },
  ],
  reads: [{ from: 'flag', flag: '--config.file', default: 'prometheus.yml', why: 'its configuration' }],
  source: 'prometheus/prometheus@v3.14.0 cmd/prometheus/main.go (flags; queries.active in the data dir), tsdb/db.go (lock, wal), tsdb/head.go (chunks_head); nothing in /tmp',
};

/** The prom/prometheus image, built FROM quay.io/prometheus/busybox (the plain tag is the busybox variant). */
const PROMETHEUS: ImageFacts = {
  image: IMAGES.prometheus,
  also: [`quay.io/prometheus/prometheus:${IMAGES.prometheus.tag}`, `prom/prometheus:${IMAGES.prometheus.tag}-busybox`],
  sources: [
    'prometheus/prometheus@v3.14.0 Dockerfile (Makefile.common: the plain tag is this file, the busybox variant)',
    'prometheus/busybox uclibc/Dockerfile (FROM busybox:uclibc; read at master 869afd4, the repository has no tags)',
    'docker-library/busybox latest/uclibc/Dockerfile.builder (defconfig, applets hard-linked into /bin); buildroot 2026.05.1 system/skeleton/etc/passwd',
  ],
  // buildroot's skeleton /etc/passwd: nobody:x:65534:65534; /etc/group: nobody:x:65534.
  user: { written: 'nobody', uid: 65534, gid: 65534, source: 'Dockerfile USER nobody; buildroot 2026.05.1 system/skeleton/etc/passwd' },
  workdir: '/prometheus',
  entrypoint: ['/bin/prometheus'],
  cmd: ['--config.file=/etc/prometheus/prometheus.yml', '--storage.tsdb.path=/prometheus'],
  env: {},
  directories: [
    // WORKDIR /prometheus, then `chown -R nobody:nobody /etc/prometheus /prometheus && chmod g+w /prometheus`.
    { path: '/prometheus', uid: 65534, gid: 65534, mode: 0o775 },
    { path: '/etc/prometheus', uid: 65534, gid: 65534, mode: 0o755 },
    { path: '/tmp', uid: 0, gid: 0, mode: 0o1777 },
  ],
  executables: ['/bin/prometheus', '/bin/promtool', '/bin/busybox', ...BUSYBOX_TOOLS],
  programs: [
    PROMETHEUS_PROGRAM,
    // The chart's `helm test` pods run busybox wget with -O /dev/null: nothing written.
    { executable: 'wget', writes: [], reads: [], source: 'busybox wget -O /dev/null writes to /dev/null only' },
  ],
};

/** prom/prometheus's distroless variant (`<tag>-distroless`): no shell, no wget, user 65532. */
const PROMETHEUS_DISTROLESS: ImageFacts = {
  image: { repository: IMAGES.prometheus.repository, tag: `${IMAGES.prometheus.tag}-distroless` },
  also: [`quay.io/prometheus/prometheus:${IMAGES.prometheus.tag}-distroless`],
  sources: ['prometheus/prometheus@v3.14.0 Dockerfile.distroless (FROM gcr.io/distroless/static-debian13:nonroot)'],
  user: { written: '65532:65532', uid: 65532, gid: 65532, source: 'the distroless nonroot base sets USER 65532:65532 (comment in Dockerfile.distroless)' },
  workdir: '/prometheus',
  entrypoint: ['/bin/prometheus'],
  cmd: ['--config.file=/etc/prometheus/prometheus.yml', '--storage.tsdb.path=/prometheus'],
  env: {},
  // WORKDIR /prometheus is created root:root 0755; nothing is chowned.
  directories: [{ path: '/tmp', uid: 0, gid: 0, mode: 0o1777 }],
  executables: ['/bin/prometheus', '/bin/promtool'],
  programs: [PROMETHEUS_PROGRAM],
};

/** grafana/loki: distroless (gcr.io/distroless/static:nonroot), numeric user 10001. */
const LOKI: ImageFacts = {
  image: IMAGES.loki,
  sources: ['grafana/loki@v3.7.6 cmd/loki/Dockerfile (the release workflows build the published image from it)', 'GoogleContainerTools/distroless static (no shell, /tmp 1777)'],
  user: { written: '10001', uid: 10001, gid: 10001, source: 'cmd/loki/Dockerfile USER 10001; its /etc/passwd (copied from the build stage) has loki 10001:10001' },
  workdir: '/',
  entrypoint: ['/usr/bin/loki'],
  cmd: ['-config.file=/etc/loki/local-config.yaml'],
  env: {},
  directories: [
    // mkdir -p /etc/loki /loki/rules /loki/rules-temp, copied with --chown=10001:10001.
    { path: '/etc/loki', uid: 10001, gid: 10001, mode: 0o755 },
    { path: '/loki', uid: 10001, gid: 10001, mode: 0o755 },
    { path: '/loki/rules', uid: 10001, gid: 10001, mode: 0o755 },
    { path: '/loki/rules-temp', uid: 10001, gid: 10001, mode: 0o755 },
    { path: '/tmp', uid: 0, gid: 0, mode: 0o1777 },
  ],
  executables: ['/usr/bin/loki'],
  programs: [{
    executable: 'loki',
    writes: [
      // path_prefix holds wal/, tsdb-shipper-active/, tsdb-shipper-cache/ and rules-temp/.
      { from: 'config', fileFlag: '-config.file', fileDefault: '/etc/loki/local-config.yaml', keys: ['common.path_prefix', 'common.storage.filesystem.chunks_directory', 'compactor.working_directory'], why: 'WAL, index, chunks and the compactor\'s work' },
      // Retention's marker writer and sweeper use os.TempDir().
      { from: 'path', path: '/tmp', why: 'the compactor\'s retention markers (os.TempDir)' },
    ],
    reads: [
      { from: 'flag', flag: '-config.file', default: '/etc/loki/local-config.yaml', why: 'its configuration' },
      // The ruler's local rule store lists this directory and fails when it is missing; Loki never creates it.
      { from: 'config', fileFlag: '-config.file', fileDefault: '/etc/loki/local-config.yaml', keys: ['common.storage.filesystem.rules_directory'], why: 'the ruler\'s local rule store (Loki never creates it)' },
    ],
    source: 'grafana/loki@v3.7.6 pkg/loki/config_wrapper.go (path_prefix defaults), pkg/compactor/retention/marker.go (os.TempDir), pkg/ruler/rulestore/local/local.go (ReadDir of rules_directory)',
  }],
};

/** grafana/promtail: Ubuntu Noble, no USER (root), bash but neither curl nor wget. */
const PROMTAIL: ImageFacts = {
  image: IMAGES.promtail,
  sources: ['grafana/loki@v3.6.11 clients/cmd/promtail/Dockerfile (FROM ubuntu:noble; the release workflows build the image from it)'],
  user: { written: '', uid: 0, gid: 0, source: 'no USER instruction' },
  workdir: '/',
  entrypoint: ['/usr/bin/promtail'],
  cmd: ['-config.file=/etc/promtail/config.yml'],
  env: {},
  directories: [{ path: '/tmp', uid: 0, gid: 0, mode: 0o1777 }],
  executables: ['/usr/bin/promtail', ...DEBIAN_BASE_TOOLS],
  programs: [{
    executable: 'promtail',
    writes: [
      // Promtail does not create the positions file's directory; it writes the file there (renameio).
      { from: 'config', fileFlag: '-config.file', fileDefault: '/etc/promtail/config.yml', keys: ['positions.filename'], dirOf: true, default: '/var/log/positions.yaml', why: 'its positions file' },
    ],
    reads: [
      { from: 'flag', flag: '-config.file', default: '/etc/promtail/config.yml', why: 'its configuration' },
      { from: 'globs', fileFlag: '-config.file', why: 'the log files it tails' },
    ],
    source: 'grafana/loki@v3.6.11 clients/pkg/promtail/positions/positions.go (default /var/log/positions.yaml, no MkdirAll), write_positions_unix.go (renameio)',
  }],
};

/** grafana/alloy: Ubuntu Noble, no USER (root), /var/lib/alloy owned by alloy (473:473) with mode 0770. */
const ALLOY: ImageFacts = {
  image: IMAGES.alloy,
  sources: ['grafana/alloy@v1.18.1 Dockerfile (FROM ubuntu:noble pinned by digest; scripts/docker-containers builds the image from it)'],
  user: { written: '', uid: 0, gid: 0, source: 'no USER instruction (the `alloy` user 473 exists but is not the default)' },
  workdir: '/',
  entrypoint: ['/bin/alloy'],
  cmd: ['run', '/etc/alloy/config.alloy', '--storage.path=/var/lib/alloy/data'],
  env: { ALLOY_DEPLOY_MODE: 'docker' },
  directories: [
    // mkdir -p /var/lib/alloy/data && chown -R alloy:alloy /var/lib/alloy && chmod -R 770 /var/lib/alloy
    { path: '/var/lib/alloy', uid: 473, gid: 473, mode: 0o770 },
    { path: '/var/lib/alloy/data', uid: 473, gid: 473, mode: 0o770 },
    // Created by COPY --chown=473:473 example-config.alloy /etc/alloy/config.alloy (BuildKit chowns new parents).
    { path: '/etc/alloy', uid: 473, gid: 473, mode: 0o755 },
    { path: '/tmp', uid: 0, gid: 0, mode: 0o1777 },
  ],
  executables: ['/bin/alloy', '/usr/bin/alloy', '/bin/otelcol', ...DEBIAN_BASE_TOOLS],
  programs: [{
    executable: 'alloy',
    writes: [
      // remotecfg.New MkdirAll(<storage>/remotecfg) (fatal), alloy_seed.json, and loki.source.file's
      // MkdirAll(<storage>/loki.source.file.<label>) for its positions (fatal).
      { from: 'flag', flag: '--storage.path', default: 'data-alloy/', why: 'its storage path (remotecfg, seed, loki.source.file positions)' },
    ],
    reads: [
      { from: 'arg', index: 2, why: 'its configuration (`alloy run <file>`)' },
      { from: 'globs', fileArg: 2, why: 'the log files it tails' },
    ],
    source: 'grafana/alloy@v1.18.1 internal/alloycli/cmd_run.go (storage path default data-alloy/), internal/service/remotecfg/remotecfg.go, internal/component/loki/source/file/file.go',
  }],
};

/** GF_PATHS_* of the Grafana image's ENV. */
const GRAFANA_PATHS = {
  GF_PATHS_CONFIG: '/etc/grafana/grafana.ini',
  GF_PATHS_DATA: '/var/lib/grafana',
  GF_PATHS_HOME: '/usr/share/grafana',
  GF_PATHS_LOGS: '/var/log/grafana',
  GF_PATHS_PLUGINS: '/var/lib/grafana/plugins',
  GF_PATHS_PROVISIONING: '/etc/grafana/provisioning',
};

/** grafana/grafana: Alpine, numeric user 472 whose primary group is root (0). */
const GRAFANA: ImageFacts = {
  image: IMAGES.grafana,
  sources: [
    'grafana/grafana Dockerfile (final-alpine stage) and packaging/docker/run.sh: NOT read at v13.2.0 (the repository is too large to fetch here); read at 12.x upstream commits and a fork tracking 13.x main (see README, image facts)',
  ],
  user: { written: '472', uid: 472, gid: 0, source: 'Dockerfile GF_UID=472, GF_GID=0: adduser -S -u 472 -G root grafana; USER "$GF_UID"' },
  workdir: '/usr/share/grafana',
  entrypoint: ['/run.sh'],
  cmd: [],
  env: { PATH: '/usr/share/grafana/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', ...GRAFANA_PATHS },
  directories: [
    // chown -R grafana:root and chmod -R 777 on data, .aws, logs, plugins, provisioning, plugins-bundled.
    ...['/var/lib/grafana', '/var/lib/grafana/plugins', '/var/log/grafana', '/usr/share/grafana/.aws', '/usr/share/grafana/data/plugins-bundled',
      '/etc/grafana/provisioning', '/etc/grafana/provisioning/datasources', '/etc/grafana/provisioning/dashboards']
      .map((p) => ({ path: p, uid: 472, gid: 0, mode: 0o777 })),
    { path: '/tmp', uid: 0, gid: 0, mode: 0o1777 },
  ],
  executables: ['/run.sh', '/usr/share/grafana/bin/grafana', '/usr/bin/curl', '/bin/bash', ...ALPINE_BUSYBOX_TOOLS],
  programs: [{
    executable: 'run.sh',
    writes: [
      // sqlite database, png/csv/pdf, unified-search, grafana-apiserver.
      { from: 'env', name: 'GF_PATHS_DATA', default: GRAFANA_PATHS.GF_PATHS_DATA, why: 'its database' },
      // run.sh: `mkdir "$GF_PATHS_PLUGINS"` when missing, under set -e.
      { from: 'env', name: 'GF_PATHS_PLUGINS', default: GRAFANA_PATHS.GF_PATHS_PLUGINS, why: 'run.sh creates the plugins directory' },
      // Backend plugins (the Prometheus and Loki data sources are backend plugins in 13.x) listen on unix
      // sockets in os.TempDir() (hashicorp/go-plugin); plugin installs stage zips there.
      { from: 'path', path: '/tmp', why: 'backend plugins\' sockets' },
    ],
    reads: [
      { from: 'env', name: 'GF_SECURITY_ADMIN_PASSWORD__FILE', why: 'the admin password file (run.sh reads it)' },
      { from: 'path', path: `${GRAFANA_PATHS.GF_PATHS_PROVISIONING}/datasources`, why: 'provisioned data sources' },
      { from: 'path', path: `${GRAFANA_PATHS.GF_PATHS_PROVISIONING}/dashboards`, why: 'dashboard providers' },
    ],
    // run.sh passes cfg:default.log.mode="console": nothing is written to GF_PATHS_LOGS.
    source: 'packaging/docker/run.sh (mkdir plugins, __FILE, log mode console), pkg/setting (paths under the data directory)',
  }],
};

/** The demo app's image (app/Dockerfile): node:22.21.1-bookworm-slim, USER 1000 (`node`), files root-owned. */
const APP: ImageFacts = {
  image: IMAGES.app,
  sources: [
    'app/Dockerfile in this repository (WORKDIR /app, USER 1000, CMD node build/server.js)',
    'nodejs/docker-node@bf78d76 22/bookworm-slim/Dockerfile (useradd --uid 1000 --gid node node; ENTRYPOINT docker-entrypoint.sh; curl and wget purged)',
  ],
  user: { written: '1000', uid: 1000, gid: 1000, source: 'app/Dockerfile USER 1000; docker-node: groupadd --gid 1000 node, useradd --uid 1000 --gid node' },
  workdir: '/app',
  entrypoint: ['docker-entrypoint.sh'],
  cmd: ['node', 'build/server.js'],
  env: { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' },
  directories: [{ path: '/tmp', uid: 0, gid: 0, mode: 0o1777 }],
  executables: ['/usr/local/bin/node', '/usr/local/bin/nodejs', '/usr/local/bin/docker-entrypoint.sh', '/usr/local/bin/npm', ...DEBIAN_BASE_TOOLS],
  programs: [
    // The app and the traffic generator write no file (no fs use in app/src; logs go to stdout).
    { executable: 'docker-entrypoint.sh', writes: [], reads: [], source: 'app/src: no file writes; docker-entrypoint.sh execs its arguments' },
    { executable: 'node', writes: [], reads: [], source: 'app/src: no file writes' },
  ],
};

/** The facts of every pinned image, by the name of its pin. */
export const IMAGE_FACTS: Readonly<Record<ImageName, ImageFacts>> = {
  prometheus: PROMETHEUS,
  grafana: GRAFANA,
  loki: LOKI,
  promtail: PROMTAIL,
  alloy: ALLOY,
  app: APP,
};

/** Facts of images the stack can be set to run besides the pins (the chart's scenarios use them). */
export const OTHER_IMAGE_FACTS: readonly ImageFacts[] = [PROMETHEUS_DISTROLESS];

/** The facts of an image by `repository:tag`, or undefined when nothing is known of it. */
export function factsOfImage(ref: string): ImageFacts | undefined {
  return [...Object.values(IMAGE_FACTS), ...OTHER_IMAGE_FACTS].find((f) => imageString(f.image) === ref || (f.also ?? []).includes(ref));
}

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

/** The host directories the log agents read. */
export const HOST_DIRECTORIES: readonly HostDirectory[] = [
  {
    // /var/log/pods/<namespace>_<pod>_<uid>/<container>/<n>.log
    path: '/var/log/pods',
    dir: { path: '/var/log/pods', uid: 0, gid: 0, mode: 0o755 },
    subdirs: { uid: 0, gid: 0, mode: 0o755 },
    files: { uid: 0, gid: 0, mode: 0o640 },
    fileDepth: 3,
    source: 'kubelet: log directories 0755, container log files root:root 0640 (kubernetes/kubernetes#124349)',
  },
  {
    // /var/lib/docker/containers/<id>/<id>-json.log
    path: '/var/lib/docker/containers',
    dir: { path: '/var/lib/docker/containers', uid: 0, gid: 0, mode: 0o710 },
    subdirs: { uid: 0, gid: 0, mode: 0o710 },
    files: { uid: 0, gid: 0, mode: 0o640 },
    fileDepth: 2,
    source: 'moby: container directories root:root 0710, json-file logs root:root 0640',
  },
];
