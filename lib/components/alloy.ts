/**
 * Grafana Alloy as the node log agent: every fact of how it runs, in one place (lib/k8s/alloy.ts,
 * lib/compose/alloy.ts, the chart and the config renderer read them from here).
 */
import { DEBIAN_BASE_TOOLS, ImageFacts } from '../image-facts';
import type { ImageRef } from '../images';
import type { IngressFrom } from '../network-access';


/** Name of Alloy's objects and its compose service. */
export const ALLOY_NAME = 'alloy';

/** Grafana Alloy v1.18.1 (Docker Hub tags keep the `v`). */
export const ALLOY_IMAGE: ImageRef = { repository: 'grafana/alloy', tag: 'v1.18.1' };

/** Alloy's HTTP port (/-/ready, /-/healthy, /metrics): Alloy's own default, listened on all interfaces. */
export const ALLOY_HTTP_PORT = 12345;
/** Who may open that port (lib/network-access.ts): Prometheus (scrape). */
export const ALLOY_INGRESS_FROM: IngressFrom = ['prometheus'];
/**
 * Alloy's data directory (`--storage.path`) inside the container: positions and component state. On
 * Kubernetes a host directory is mounted here (ALLOY_HOST_DATA_DIR, lib/k8s/alloy.ts), on compose a named
 * volume, so positions outlive the container.
 *
 * Not the image's own /var/lib/alloy/data: the image makes /var/lib/alloy 473:473 with mode 0770 for its
 * `alloy` user, but the agent runs as uid 0 (to read root-owned log files) with every capability dropped,
 * and uid 0 without CAP_DAC_OVERRIDE gets that directory's "other" bits, none, so it could not even reach a
 * volume mounted below it; `alloy run` would exit at start (ALLOY_IMAGE_FACTS; test/container-start.test.ts).
 * Adding the image's group 473 would also work, but would tie the stack to a uid/gid the image may change
 * and add a relaxation; /run/alloy is outside the image's directories, as Promtail's /run/promtail is.
 */
export const ALLOY_STORAGE_PATH = '/run/alloy';
/**
 * On Kubernetes, the host directory mounted at ALLOY_STORAGE_PATH: positions outlive the pod and, unlike a
 * directory under /run (a tmpfs on most hosts, kind's nodes included), a reboot of the node, so a rebooted
 * node does not send again every log line still on it. The kubelet creates it root:root 0755
 * (DirectoryOrCreate); uid 0 owns it.
 */
export const ALLOY_HOST_DATA_DIR = '/var/lib/observability-stack/alloy';
/** File name of the rendered configuration. */
export const ALLOY_CONFIG_FILE_NAME = 'config.alloy';
/** Where the config file is mounted, in the pod and in the compose container. */
export const ALLOY_CONFIG_DIR = '/etc/alloy';
/** 503 until the configuration is loaded, then 200 (Alloy's docs call /-/healthy unfit for liveness). */
export const ALLOY_READY_PATH = '/-/ready';

/**
 * `alloy run`'s arguments, the same on Kubernetes and compose: the mounted config; all interfaces, since Alloy
 * listens on 127.0.0.1 by default and the probes and Prometheus come from outside; its data directory
 * (positions); and no usage reports to Grafana Labs, as for Loki and Grafana.
 */
export function alloyRunArgs(): string[] {
  return [
    'run',
    `${ALLOY_CONFIG_DIR}/${ALLOY_CONFIG_FILE_NAME}`,
    `--server.http.listen-addr=0.0.0.0:${ALLOY_HTTP_PORT}`,
    `--storage.path=${ALLOY_STORAGE_PATH}`,
    '--disable-reporting',
  ];
}

/** grafana/alloy: Ubuntu Noble, no USER (root), /var/lib/alloy owned by alloy (473:473) with mode 0770. */
export const ALLOY_IMAGE_FACTS: ImageFacts = {
  image: ALLOY_IMAGE,
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
      { from: 'matches', fileArg: 2, pattern: 'password_file\\s*=\\s*"([^"]+)"', why: 'the password of a Loki of the user\'s (read at each push)' },
    ],
    source: 'grafana/alloy@v1.18.1 internal/alloycli/cmd_run.go (storage path default data-alloy/), internal/service/remotecfg/remotecfg.go, internal/component/loki/source/file/file.go',
  }],
};
