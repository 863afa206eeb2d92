/**
 * Alertmanager: every fact of how it runs, in one place: the image and what it holds, the uid, port, paths,
 * flags, probe paths, and where the receivers' secrets are mounted. The config renderer
 * (lib/render/alertmanager-config.ts) and, next, the renderings read them from here.
 */
import { BUSYBOX_TOOLS, ImageFacts } from '../image-facts';
import type { ImageRef } from '../images';
import type { IngressFrom } from '../network-access';

/** Name of Alertmanager's objects and its compose service. */
export const ALERTMANAGER_NAME = 'alertmanager';

/** Alertmanager 0.34.0 (git tag v0.34.0, 2026-08-16; pinned by kube-prometheus-stack 88.5.3 and the alertmanager chart 1.42.0). */
export const ALERTMANAGER_IMAGE: ImageRef = { repository: 'prom/alertmanager', tag: 'v0.34.0' };

/** Alertmanager's HTTP port: UI, API v2, /-/ready, /-/healthy, /metrics. */
export const ALERTMANAGER_PORT = 9093;
/** Who may open that port (lib/network-access.ts): Prometheus (sends alerts, scrapes) and Grafana (its Alertmanager data source). */
export const ALERTMANAGER_INGRESS_FROM: IngressFrom = ['prometheus', 'grafana'];
/** The rendered alertmanager.yml, in the container. */
export const ALERTMANAGER_CONFIG_FILE = '/etc/alertmanager/alertmanager.yml';
/** Notification log and silences (the image's `VOLUME /alertmanager`): the volume's mount path. */
export const ALERTMANAGER_DATA_DIR = '/alertmanager';
/**
 * Where the receivers' secrets are mounted, one file each (a Kubernetes Secret's key, a compose secret):
 * the config names them through Alertmanager's `*_file` fields, so no secret is ever in it.
 */
export const ALERTMANAGER_SECRETS_DIR = '/etc/alertmanager/secrets';
/** 200 once it can serve; and always 200 while the process runs. */
export const ALERTMANAGER_READY_PATH = '/-/ready';
export const ALERTMANAGER_HEALTHY_PATH = '/-/healthy';

/**
 * Alertmanager's command-line flags, the same in every rendering: its config and storage, all interfaces,
 * and no HA gossip (`--cluster.listen-address=` empty: one replica; its default would listen on 9094 and
 * look for peers).
 */
export function alertmanagerFlags(): string[] {
  return [
    `--config.file=${ALERTMANAGER_CONFIG_FILE}`,
    `--storage.path=${ALERTMANAGER_DATA_DIR}`,
    `--web.listen-address=0.0.0.0:${ALERTMANAGER_PORT}`,
    '--cluster.listen-address=',
  ];
}

/** The prom/alertmanager image, FROM quay.io/prometheus/busybox (as Prometheus's). */
export const ALERTMANAGER_IMAGE_FACTS: ImageFacts = {
  image: ALERTMANAGER_IMAGE,
  also: [`quay.io/prometheus/alertmanager:${ALERTMANAGER_IMAGE.tag}`],
  sources: [
    'prometheus/alertmanager@v0.34.0 Dockerfile (FROM quay.io/prometheus/busybox; no distroless variant)',
    'prometheus/busybox, docker-library/busybox, buildroot 2026.05.1 (as for prom/prometheus: nobody is 65534:65534, busybox applets in /bin)',
  ],
  user: { written: 'nobody', uid: 65534, gid: 65534, source: 'Dockerfile USER nobody; buildroot 2026.05.1 system/skeleton/etc/passwd' },
  workdir: '/alertmanager',
  entrypoint: ['/bin/alertmanager'],
  cmd: ['--config.file=/etc/alertmanager/alertmanager.yml', '--storage.path=/alertmanager'],
  env: {},
  directories: [
    // mkdir -p /alertmanager && chown -R nobody:nobody /etc/alertmanager /alertmanager && chmod -R g+w /alertmanager
    { path: '/alertmanager', uid: 65534, gid: 65534, mode: 0o775 },
    { path: '/etc/alertmanager', uid: 65534, gid: 65534, mode: 0o755 },
    { path: '/tmp', uid: 0, gid: 0, mode: 0o1777 },
  ],
  executables: ['/bin/alertmanager', '/bin/amtool', '/bin/busybox', ...BUSYBOX_TOOLS],
  programs: [{
    executable: 'alertmanager',
    writes: [{ from: 'flag', flag: '--storage.path', default: 'data/', why: 'its notification log and silences' }],
    reads: [
      { from: 'flag', flag: '--config.file', default: 'alertmanager.yml', why: 'its configuration' },
      {
        from: 'config', fileFlag: '--config.file', fileDefault: 'alertmanager.yml', why: 'the receivers\' secrets its configuration names',
        keys: ['receivers.*.webhook_configs.*.url_file', 'receivers.*.slack_configs.*.api_url_file', 'receivers.*.email_configs.*.auth_password_file'],
      },
    ],
    source: 'prometheus/alertmanager@v0.34.0 cmd/alertmanager/main.go (--storage.path default data/: nflog, silences); notify/webhook/webhook.go, notify/slack/slack.go, notify/email/email.go (each *_file is read when it notifies)',
  }],
};

/** The file, in ALERTMANAGER_SECRETS_DIR, of each receiver's secret. */
export const ALERTMANAGER_SECRET_FILES = {
  /** The webhook's URL (it often carries a token). */
  webhook: 'webhook-url',
  /** Slack's incoming-webhook URL. */
  slack: 'slack-api-url',
  /** The SMTP password of the email receiver's account. */
  email: 'smtp-password',
} as const;
