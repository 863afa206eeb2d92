/**
 * Prometheus: every fact of how it runs, in one place. The Kubernetes construct (lib/k8s/prometheus.ts), the
 * compose service (lib/compose/prometheus.ts), the chart's generated files and the config renderer read
 * them from here: the image and what it holds, the uid, port, paths and flags.
 */
import { BUSYBOX_TOOLS, ImageFacts, ProgramFacts } from '../image-facts';
import type { ImageRef } from '../images';
import type { IngressFrom } from '../network-access';


/** Name of Prometheus's objects and its compose service. */
export const PROMETHEUS_NAME = 'prometheus';

/** Prometheus 3.14.0 (git tag v3.14.0, 2026-08-17; pinned by kube-prometheus-stack 88.5.3). */
export const PROMETHEUS_IMAGE: ImageRef = { repository: 'prom/prometheus', tag: 'v3.14.0' };

/** Prometheus's HTTP port: UI, API, /metrics, /-/ready and /-/healthy. */
export const PROMETHEUS_PORT = 9090;
/**
 * Who may open that port (lib/network-access.ts): Grafana (queries). Prometheus's scrape of its own pod's address
 * never leaves the pod's network namespace, which no NetworkPolicy filters.
 */
export const PROMETHEUS_INGRESS_FROM: IngressFrom = ['grafana'];
/** The rendered prometheus.yml, in the container. */
export const PROMETHEUS_CONFIG_FILE = '/etc/prometheus/prometheus.yml';
/**
 * With prometheus.enabled false, the keys of the ConfigMap prometheus-scrape-configs: the stack's scrape jobs as a
 * file for a Prometheus's `scrape_config_files` (2.43 and later), and as the bare list of jobs the Prometheus
 * Operator's additionalScrapeConfigs Secret holds (kube-prometheus-stack: prometheusSpec.additionalScrapeConfigsSecret).
 */
export const PROMETHEUS_SCRAPE_CONFIGS_FILE = 'scrape-configs.yaml';
export const PROMETHEUS_ADDITIONAL_SCRAPE_CONFIGS_FILE = 'additional-scrape-configs.yaml';
/** Where the rendered rule files are mounted. */
export const PROMETHEUS_RULES_DIR = '/etc/prometheus/rules';
/** The TSDB (the image's `VOLUME /prometheus`, owned by nobody): the volume's mount path. */
export const PROMETHEUS_DATA_DIR = '/prometheus';
/** Ready once the TSDB is loaded; healthy while the process serves. */
export const PROMETHEUS_READY_PATH = '/-/ready';
export const PROMETHEUS_HEALTHY_PATH = '/-/healthy';

/**
 * The feature flag that makes Prometheus keep the exemplars it scrapes (in memory, storage.exemplars in
 * prometheus.yml sizes the ring): prometheus/prometheus@v3.14.0 cmd/prometheus/main.go, "exemplar-storage".
 */
export const PROMETHEUS_EXEMPLAR_FLAG = '--enable-feature=exemplar-storage';

/**
 * Prometheus's command-line flags, the same in every rendering (the chart passes placeholders for the two
 * settings and fills them from its values, and adds the exemplar flag itself).
 */
export function prometheusFlags(p: { readonly retentionDays: number | string; readonly retentionSize: string; readonly maxExemplars: number }): string[] {
  return [
    `--config.file=${PROMETHEUS_CONFIG_FILE}`,
    `--storage.tsdb.path=${PROMETHEUS_DATA_DIR}`,
    `--storage.tsdb.retention.time=${p.retentionDays}d`,
    `--storage.tsdb.retention.size=${p.retentionSize}`,
    `--web.listen-address=0.0.0.0:${PROMETHEUS_PORT}`,
    ...(p.maxExemplars > 0 ? [PROMETHEUS_EXEMPLAR_FLAG] : []),
  ];
}

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
export const PROMETHEUS_IMAGE_FACTS: ImageFacts = {
  image: PROMETHEUS_IMAGE,
  also: [`quay.io/prometheus/prometheus:${PROMETHEUS_IMAGE.tag}`, `prom/prometheus:${PROMETHEUS_IMAGE.tag}-busybox`],
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
export const PROMETHEUS_DISTROLESS_IMAGE_FACTS: ImageFacts = {
  image: { repository: PROMETHEUS_IMAGE.repository, tag: `${PROMETHEUS_IMAGE.tag}-distroless` },
  also: [`quay.io/prometheus/prometheus:${PROMETHEUS_IMAGE.tag}-distroless`],
  sources: ['prometheus/prometheus@v3.14.0 Dockerfile.distroless (FROM gcr.io/distroless/static-debian13:nonroot)'],
  user: { written: '65532:65532', uid: 65532, gid: 65532, source: 'the distroless nonroot base sets USER 65532:65532 (comment in Dockerfile.distroless)' },
  workdir: '/prometheus',
  entrypoint: ['/bin/prometheus'],
  cmd: ['--config.file=/etc/prometheus/prometheus.yml', '--storage.tsdb.path=/prometheus'],
  env: {},
  // WORKDIR /prometheus: BuildKit creates it as the image's USER at that point, the base's 65532 (dispatchWorkdir).
  directories: [{ path: '/prometheus', uid: 65532, gid: 65532, mode: 0o755 }, { path: '/tmp', uid: 0, gid: 0, mode: 0o1777 }],
  executables: ['/bin/prometheus', '/bin/promtool'],
  programs: [PROMETHEUS_PROGRAM],
};

/** uid and gid of the image's `nobody` (its USER is a name, so Kubernetes and compose need the numbers). */
export const PROMETHEUS_UID = PROMETHEUS_IMAGE_FACTS.user.uid;
export const PROMETHEUS_GID = PROMETHEUS_IMAGE_FACTS.user.gid;
