/**
 * Promtail: every fact of how it runs, in one place (lib/k8s/promtail.ts, lib/compose/promtail.ts, the chart
 * and the config renderer read them from here).
 *
 * Promtail reached end of life on 2026-03-02 and grafana/promtail:3.6.11 is the last image ever published;
 * Grafana Alloy (lib/components/alloy.ts) is its successor.
 */
import { DEBIAN_BASE_TOOLS, ImageFacts } from '../image-facts';
import type { ImageRef } from '../images';
import type { IngressFrom } from '../network-access';


/** Name of Promtail's objects and its compose service. */
export const PROMTAIL_NAME = 'promtail';

/**
 * Promtail 3.6.11: the LAST image ever published. Promtail reached end of life on 2026-03-02 and
 * grafana/promtail:3.7.x does not exist. Grafana Alloy is its successor.
 */
export const PROMTAIL_IMAGE: ImageRef = { repository: 'grafana/promtail', tag: '3.6.11' };

/** Promtail's HTTP port (/ready, /metrics, /targets): the Promtail chart's choice. */
export const PROMTAIL_HTTP_PORT = 3101;
/** Who may open that port (lib/network-access.ts): Prometheus (scrape). */
export const PROMTAIL_INGRESS_FROM: IngressFrom = ['prometheus'];
/** Directory holding the positions file: a host directory (Kubernetes) or a volume (compose), at this path. */
export const PROMTAIL_POSITIONS_DIR = '/run/promtail';
/** Where the rendered promtail.yaml is mounted (its directory, on Kubernetes). */
export const PROMTAIL_CONFIG_DIR = '/etc/promtail';
export const PROMTAIL_CONFIG_FILE_NAME = 'promtail.yaml';
export const PROMTAIL_CONFIG_FILE = `${PROMTAIL_CONFIG_DIR}/${PROMTAIL_CONFIG_FILE_NAME}`;
/** /ready is 200 once a file is tailed (Promtail has no -health flag). */
export const PROMTAIL_READY_PATH = '/ready';

/** Promtail's command-line flags. No -config.file.expand-env: it would halve backslashes in regexes. */
export function promtailFlags(): string[] {
  return [`-config.file=${PROMTAIL_CONFIG_FILE}`];
}

/** grafana/promtail: Ubuntu Noble, no USER (root), bash but neither curl nor wget. */
export const PROMTAIL_IMAGE_FACTS: ImageFacts = {
  image: PROMTAIL_IMAGE,
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
      { from: 'config', fileFlag: '-config.file', fileDefault: '/etc/promtail/config.yml', keys: ['clients.*.basic_auth.password_file'], why: 'the password of a Loki of the user\'s (read at each push)' },
    ],
    source: 'grafana/loki@v3.6.11 clients/pkg/promtail/positions/positions.go (default /var/log/positions.yaml, no MkdirAll), write_positions_unix.go (renameio)',
  }],
};
