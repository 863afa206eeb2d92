/**
 * Grafana: every fact of how it runs, in one place (lib/k8s/grafana.ts, lib/compose/grafana.ts, the chart and
 * the provisioning renderer read them from here): the image and what it holds, uid, port, paths, settings.
 */
import type { GrafanaSettings } from '../config';
import { ALPINE_BUSYBOX_TOOLS, ImageFacts } from '../image-facts';
import type { ImageRef } from '../images';
import type { IngressFrom } from '../network-access';


/** Name of Grafana's objects and its compose service. */
export const GRAFANA_NAME = 'grafana';

/** Grafana 13.2.0 (grafana-community chart 12.11.1 appVersion; Docker Hub tags have no `v`). */
export const GRAFANA_IMAGE: ImageRef = { repository: 'grafana/grafana', tag: '13.2.0' };

/** Grafana's HTTP port (UI, API, /api/health, /metrics; the image's `EXPOSE 3000`). */
export const GRAFANA_PORT = 3000;
/** Who may open that port (lib/network-access.ts): anyone, because people do, through a NodePort or an ingress controller (Grafana asks them to log in); Prometheus's scrape among them. */
export const GRAFANA_INGRESS_FROM: IngressFrom = 'anyone';
/** Grafana's data directory (GF_PATHS_DATA): sqlite database, plugins; the volume's mount path. */
export const GRAFANA_DATA_DIR = '/var/lib/grafana';
/** Provisioning (GF_PATHS_PROVISIONING): data sources and dashboard providers. */
export const GRAFANA_PROVISIONING_DIR = '/etc/grafana/provisioning';
/** Where the dashboard provider reads the dashboards' JSON. */
export const GRAFANA_DASHBOARDS_DIR = `${GRAFANA_DATA_DIR}/dashboards`;
/** The generated admin password, on Grafana's volume (when no adminPasswordSecret is given). */
export const GRAFANA_ADMIN_PASSWORD_FILE = `${GRAFANA_DATA_DIR}/.admin-password`;
/** Where an existing Secret's admin password is mounted (grafana.adminPasswordSecret), on Kubernetes. */
export const GRAFANA_SECRET_PASSWORD_FILE = '/etc/grafana/secrets/admin-password';
/** The pod's volume holding that Secret: found by this name (the pod may mount other Secrets, grafana.postgres.caSecret). */
export const GRAFANA_ADMIN_PASSWORD_VOLUME = 'admin-password';
/** Where the PostgreSQL server's CA is mounted (grafana.postgres.caSecret), on Kubernetes: [database] ca_cert_path. */
export const GRAFANA_DATABASE_CA_FILE = '/etc/grafana/database-ca/ca.crt';
/** 200 once the database is usable. */
export const GRAFANA_HEALTH_PATH = '/api/health';

/**
 * The script that generates the admin password once: 24 random letters and digits into the password file,
 * only if there is no non-empty file yet (so restarts and upgrades keep the password Grafana's database
 * already holds). busybox in the Grafana image (alpine) provides sh, head, base64, tr, printf, mv and chmod.
 * Written to a temporary file first, so an interrupted run never leaves a short password behind.
 */
export const GRAFANA_PASSWORD_INIT_SCRIPT = [
  'set -eu',
  `f=${GRAFANA_ADMIN_PASSWORD_FILE}`,
  'if [ -s "$f" ]; then echo "admin password already generated: keeping it"; exit 0; fi',
  'umask 077',
  'p=$(head -c 32 /dev/urandom | base64 | tr -dc A-Za-z0-9 | head -c 24)',
  '[ ${#p} -eq 24 ] || { echo "could not generate a password" >&2; exit 1; }',
  'printf %s "$p" > "$f.tmp"',
  'mv "$f.tmp" "$f"',
  'chmod 0400 "$f"',
  'echo "admin password generated"',
].join('\n');

/** The variables of grafanaSettingsEnvironment, and with them the admin password's, which extraEnv may not set. */
export const GRAFANA_SETTINGS_NAMES = [
  'GF_SECURITY_ADMIN_USER', 'GF_AUTH_ANONYMOUS_ENABLED', 'GF_PLUGINS_PREINSTALL_DISABLED', 'GF_ANALYTICS_REPORTING_ENABLED', 'GF_ANALYTICS_CHECK_FOR_UPDATES',
  'GF_ANALYTICS_CHECK_FOR_PLUGIN_UPDATES', 'GF_NEWS_NEWS_FEED_ENABLED', 'GF_SNAPSHOTS_EXTERNAL_ENABLED', 'GF_SECURITY_DISABLE_GRAVATAR',
  'GF_SECURITY_ALLOW_EMBEDDING', 'GF_USERS_ALLOW_SIGN_UP', 'GF_PLUGINS_PUBLIC_KEY_RETRIEVAL_DISABLED',
] as const;
export const GRAFANA_PASSWORD_VARIABLES = ['GF_SECURITY_ADMIN_PASSWORD', 'GF_SECURITY_ADMIN_PASSWORD__FILE'] as const;

/**
 * Grafana's settings as environment variables (GF_<SECTION>_<KEY>, keys of grafana/grafana conf/defaults.ini),
 * the same in every rendering (the admin password comes apart, each rendering its own way): no anonymous
 * access; no plugin downloads at start (offline-safe, and with a read-only root the preinstaller's auto-update
 * would unload the bundled Loki data source plugin it fails to replace, grafana/grafana#132528). And what
 * costs its users nothing but would reach out of the cluster or let others in:
 * - [analytics] reporting_enabled, check_for_updates, check_for_plugin_updates: no usage counters to
 *   stats.grafana.org, no version checks against GitHub and grafana.com;
 * - [news] news_feed_enabled: no news feed fetched from grafana.com;
 * - [plugins] public_key_retrieval_disabled: the plugin-signing key built into Grafana, not fetched from
 *   grafana.com every 10 days (no plugin is installed at run time here);
 * - [snapshots] external_enabled: no "Publish to snapshots.raintank.io" (a dashboard's data, public);
 * - [security] disable_gravatar: no avatar requests to gravatar.com carrying a hash of each user's email;
 * - [security] allow_embedding (its default, written out): no rendering in another site's frame (clickjacking);
 * - [users] allow_sign_up (its default, written out): only the admin creates users.
 * Left at their defaults, on purpose: cookie_secure (true would break the login over the plain-http port-forward
 * and NodePort the stack offers; set it with extraEnv behind HTTPS), cookie_samesite lax (strict would log a
 * person out when they follow an alert's link from Slack or mail), content_security_policy (off by default
 * upstream; not tried against Grafana 13 here).
 */
export function grafanaSettingsEnvironment(g: Pick<GrafanaSettings, 'adminUser'>): Record<(typeof GRAFANA_SETTINGS_NAMES)[number], string> {
  return {
    GF_SECURITY_ADMIN_USER: g.adminUser,
    GF_AUTH_ANONYMOUS_ENABLED: 'false',
    GF_PLUGINS_PREINSTALL_DISABLED: 'true',
    GF_ANALYTICS_REPORTING_ENABLED: 'false',
    GF_ANALYTICS_CHECK_FOR_UPDATES: 'false',
    GF_ANALYTICS_CHECK_FOR_PLUGIN_UPDATES: 'false',
    GF_NEWS_NEWS_FEED_ENABLED: 'false',
    GF_SNAPSHOTS_EXTERNAL_ENABLED: 'false',
    GF_SECURITY_DISABLE_GRAVATAR: 'true',
    GF_SECURITY_ALLOW_EMBEDDING: 'false',
    GF_USERS_ALLOW_SIGN_UP: 'false',
    GF_PLUGINS_PUBLIC_KEY_RETRIEVAL_DISABLED: 'true',
  };
}

/**
 * [database] of conf/defaults.ini as variables (grafana.postgres): type, host, name, user, ssl_mode, and the
 * password, which each rendering takes from its secret store (a Secret's key; compose/.env).
 */
export const GRAFANA_DATABASE_NAMES = ['GF_DATABASE_TYPE', 'GF_DATABASE_HOST', 'GF_DATABASE_NAME', 'GF_DATABASE_USER', 'GF_DATABASE_SSL_MODE', 'GF_DATABASE_CA_CERT_PATH'] as const;
export const GRAFANA_DATABASE_PASSWORD_VARIABLE = 'GF_DATABASE_PASSWORD';
/** On compose, the compose/.env variable that fills it. */
export const GRAFANA_DATABASE_PASSWORD_COMPOSE_VARIABLE = 'GRAFANA_DATABASE_PASSWORD';

/** [security] secret_key as a variable (grafana.secretKeySecret), from a Secret's key; on compose, from compose/.env. */
export const GRAFANA_SECRET_KEY_VARIABLE = 'GF_SECURITY_SECRET_KEY';
/**
 * Every variable the key goes to: [security] secret_key, and the key of Grafana 13's newer secrets manager
 * ([secrets_manager.encryption.secret_key.v1] secret_key, its secret_key.v1 provider: kmsproviders.go reads
 * `secret_key` from each `secret_key*` section), whose default is the same public text. Grafana applies a
 * GF_<SECTION>_<KEY> variable only to a key its ini files hold, so the second is inert where the section is absent.
 */
export const GRAFANA_SECRET_KEY_VARIABLES = [GRAFANA_SECRET_KEY_VARIABLE, 'GF_SECRETS_MANAGER_ENCRYPTION_SECRET_KEY_V1_SECRET_KEY'] as const;
export const GRAFANA_SECRET_KEY_COMPOSE_VARIABLE = 'GRAFANA_SECRET_KEY';

/** Grafana's database settings for grafana.postgres (none for SQLite, Grafana's default), without the password. */
export function grafanaDatabaseEnvironment(pg: GrafanaSettings['postgres']): Partial<Record<(typeof GRAFANA_DATABASE_NAMES)[number], string>> {
  if (!pg.enabled) return {};
  return { GF_DATABASE_TYPE: 'postgres', GF_DATABASE_HOST: pg.host, GF_DATABASE_NAME: pg.database, GF_DATABASE_USER: pg.user, GF_DATABASE_SSL_MODE: pg.sslMode };
}

/**
 * Grafana's alerting gossip between several pods ([unified_alerting] ha_*): the port, on TCP and UDP (memberlist),
 * and the headless Service the pods find each other through (ha_peers resolves it to every pod's address).
 */
export const GRAFANA_ALERTING_PORT = 9094;
export const GRAFANA_ALERTING_SERVICE = `${GRAFANA_NAME}-alerting`;
/** The variable each pod reads its own address from (the downward API's status.podIP). */
export const GRAFANA_POD_IP_VARIABLE = 'POD_IP';
export const GRAFANA_ALERTING_NAMES = [
  'GF_UNIFIED_ALERTING_HA_LISTEN_ADDRESS', 'GF_UNIFIED_ALERTING_HA_ADVERTISE_ADDRESS', 'GF_UNIFIED_ALERTING_HA_PEERS',
  'GF_UNIFIED_ALERTING_HA_RECONNECT_TIMEOUT', 'GF_UNIFIED_ALERTING_HA_LABEL',
] as const;

/** Whether Grafana runs several pods: more than one, on PostgreSQL (the model refuses more than one on SQLite). */
export function grafanaRunsSeveral(g: Pick<GrafanaSettings, 'replicas' | 'postgres'>): boolean {
  return g.postgres.enabled && g.replicas > 1;
}

/**
 * [unified_alerting] for several pods (Grafana's "Configure high availability", Kubernetes): each pod listens and
 * advertises on its own address (`$(POD_IP)`, which Kubernetes expands from the variable set before these; in
 * brackets, which Go's address parsing takes for IPv4 and needs for IPv6), joins the others through the headless
 * Service, gives up on a pod gone for 2 minutes (the docs' value; the default 6h keeps retrying every address a
 * rollout left behind), and drops gossip without this stack's label (another Grafana reusing a gone pod's
 * address). Their Alertmanagers then share silences and notification state, so a notification goes out once (best
 * effort), not once per pod.
 */
export function grafanaAlertingEnvironment(peersService: string, label: string): Record<(typeof GRAFANA_ALERTING_NAMES)[number], string> {
  const self = `[$(${GRAFANA_POD_IP_VARIABLE})]:${GRAFANA_ALERTING_PORT}`;
  return {
    GF_UNIFIED_ALERTING_HA_LISTEN_ADDRESS: self,
    GF_UNIFIED_ALERTING_HA_ADVERTISE_ADDRESS: self,
    GF_UNIFIED_ALERTING_HA_PEERS: `${peersService}:${GRAFANA_ALERTING_PORT}`,
    GF_UNIFIED_ALERTING_HA_RECONNECT_TIMEOUT: '2m',
    GF_UNIFIED_ALERTING_HA_LABEL: label,
  };
}

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
export const GRAFANA_IMAGE_FACTS: ImageFacts = {
  image: GRAFANA_IMAGE,
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
      { from: 'env', name: 'GF_DATABASE_CA_CERT_PATH', why: 'the PostgreSQL server\'s CA (grafana.postgres.caSecret)' },
      { from: 'path', path: `${GRAFANA_PATHS.GF_PATHS_PROVISIONING}/datasources`, why: 'provisioned data sources' },
      // Provisioning expands $__file{path} in every value (setting.ExpandVar): Loki's basic-auth password.
      { from: 'matches', filePath: `${GRAFANA_PATHS.GF_PATHS_PROVISIONING}/datasources/datasources.yaml`, pattern: '(?<!\\$)\\$__file\\{([^}]+)\\}', why: 'a file its data sources read ($__file{…})' },
      { from: 'path', path: `${GRAFANA_PATHS.GF_PATHS_PROVISIONING}/dashboards`, why: 'dashboard providers' },
    ],
    // run.sh passes cfg:default.log.mode="console": nothing is written to GF_PATHS_LOGS.
    source: 'packaging/docker/run.sh (mkdir plugins, __FILE, log mode console), pkg/setting (paths under the data directory)',
  }],
};

/** uid of the image's user (`USER 472`). */
export const GRAFANA_UID = GRAFANA_IMAGE_FACTS.user.uid;
