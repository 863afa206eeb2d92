/**
 * Loki: every fact of how it runs, in one place (lib/k8s/loki.ts, lib/compose/loki.ts, the chart and the
 * config renderer read them from here): the image and what it holds, the uid, ports, paths and flags.
 */
import type { LokiSettings } from '../config';
import { ImageFacts } from '../image-facts';
import type { ImageRef } from '../images';
import type { IngressFrom } from '../network-access';


/** Name of Loki's objects and its compose service. */
export const LOKI_NAME = 'loki';

/** Loki 3.7.6 (git tag v3.7.6; has `loki -health` from 3.7.0 for image-native healthchecks). */
export const LOKI_IMAGE: ImageRef = { repository: 'grafana/loki', tag: '3.7.6' };

/** Loki's HTTP port: push API, queries, /ready and /metrics. */
export const LOKI_HTTP_PORT = 3100;
/** Who may open the HTTP port (lib/network-access.ts): Prometheus (scrape), Grafana (queries), the log agent (push). The gRPC and gossip ports only to Loki's own pods, and only with loki.replicas above 1: one pod's components reach each other on 127.0.0.1 (common.instance_addr). */
export const LOKI_INGRESS_FROM: IngressFrom = ['prometheus', 'grafana', 'logAgent'];
/** Loki's gRPC port (only used between Loki's own components; kept on its default). */
export const LOKI_GRPC_PORT = 9095;
/** Loki's memberlist port (gossip of the rings between its pods, over TCP: dskit's TCPTransport), with loki.replicas above 1. */
export const LOKI_MEMBERLIST_PORT = 7946;
/**
 * The headless Service through which Loki's pods find each other (memberlist.join_members resolves it to every
 * pod's address, ready or not) and which names the StatefulSet's pods.
 */
export const LOKI_MEMBERLIST_SERVICE = `${LOKI_NAME}-memberlist`;
/**
 * How many pods keep each stream (common.replication_factor): one pod keeps it alone, several keep it on up to 3.
 * A push needs a quorum (RF/2 + 1) of them (dskit's replication strategy), so 3 or more pods keep taking lines
 * with one of them down, 2 do not.
 */
export function lokiReplicationFactor(replicas: number): number {
  return Math.min(3, replicas);
}
/** Where Loki keeps everything it writes: the volume's mount path. */
export const LOKI_DATA_DIR = '/loki';
/** The ruler's local rule store, on the volume: Loki creates it at start (initRulerStorage, EnsureDirectory). */
export const LOKI_RULES_DIR = `${LOKI_DATA_DIR}/rules`;
/** The push API's path, appended to Loki's base URL by the log agents. */
export const LOKI_PUSH_PATH = '/loki/api/v1/push';
/** Where the rendered loki.yaml is mounted (its directory, on Kubernetes). */
export const LOKI_CONFIG_DIR = '/etc/loki';
export const LOKI_CONFIG_FILE = `${LOKI_CONFIG_DIR}/loki.yaml`;
/** /ready turns 200 some 15 s after the ingester joins its ring (min_ready_duration). */
export const LOKI_READY_PATH = '/ready';

/**
 * The start of the filesystem period in schema_config: every stack's first. A bucket's period (loki.storage.s3)
 * starts later, from the day the user chooses.
 */
export const LOKI_FILESYSTEM_PERIOD_START = '2024-04-01';

/**
 * The variables Loki's S3 client reads its keys from when loki.yaml names none (aws-sdk-go-v2's default
 * credential chain: grafana/loki@v3.7.6 pkg/storage/chunk/client/aws/s3_storage_client.go, buildS3Client loads
 * the default config and sets static keys only when the file holds both). The keys stay out of the config file.
 */
export const LOKI_S3_KEY_VARIABLES = { accessKeyId: 'AWS_ACCESS_KEY_ID', secretAccessKey: 'AWS_SECRET_ACCESS_KEY' } as const;
/**
 * The container's environment for loki.storage.s3: the two keys from the user's Secret (Kubernetes); none
 * without a bucket, and none with s3.workloadIdentity, so that the SDK's default chain goes on to what the
 * cluster's identity webhook injects (on EKS: AWS_ROLE_ARN and AWS_WEB_IDENTITY_TOKEN_FILE for IAM roles for
 * service accounts, AWS_CONTAINER_CREDENTIALS_FULL_URI and its token file for Pod Identity). Keys in the
 * environment come first in that chain, and would win.
 */
export function lokiS3Environment(s3: Pick<LokiSettings['storage']['s3'], 'enabled' | 'workloadIdentity' | 'credentialsSecret'>): Array<{ name: string; valueFrom: { secretKeyRef: { name: string; key: string } } }> {
  if (!s3.enabled || s3.workloadIdentity) return [];
  const ref = (key: string) => ({ secretKeyRef: { name: s3.credentialsSecret.name, key } });
  return [
    { name: LOKI_S3_KEY_VARIABLES.accessKeyId, valueFrom: ref(s3.credentialsSecret.accessKeyIdKey) },
    { name: LOKI_S3_KEY_VARIABLES.secretAccessKey, valueFrom: ref(s3.credentialsSecret.secretAccessKeyKey) },
  ];
}

/** On compose, the compose/.env variables that fill them. */
export const LOKI_S3_COMPOSE_VARIABLES = { accessKeyId: 'LOKI_S3_ACCESS_KEY_ID', secretAccessKey: 'LOKI_S3_SECRET_ACCESS_KEY' } as const;

/**
 * Whether the stack ships logs, so that the log agent runs: to its own Loki (loki.enabled), or to a Loki the user
 * runs (loki.external.url; the rules refuse both at once).
 */
export function shipsLogs(loki: Pick<LokiSettings, 'enabled' | 'external'>): boolean {
  return loki.enabled || loki.external.url !== '';
}

/** The Loki the log agent pushes to and Grafana reads: the stack's own, or loki.external. */
export interface LokiEndpoint {
  /** Its base URL (Grafana's data source). */
  readonly url: string;
  /** Its push URL (the log agent's client). */
  readonly pushUrl: string;
  /** The tenant sent as X-Scope-OrgID, "" for none (the stack's own Loki has one tenant and reads no header). */
  readonly tenant: string;
  /** The user of HTTP basic auth, "" for none; the password is the file LOKI_PASSWORD_FILE in each client's container. */
  readonly username: string;
  /** On Kubernetes, the Secret and key holding that password (loki.external.basicAuth.passwordSecret). @default none */
  readonly passwordSecret?: { readonly name: string; readonly key: string };
}

/** What a client of Loki sends besides its lines: the tenant and the basic-auth user (a LokiEndpoint's). */
export type LokiClientAuth = Pick<LokiEndpoint, 'tenant' | 'username'>;
/** The stack's own Loki: one tenant, no authentication. */
export const NO_LOKI_AUTH: LokiClientAuth = { tenant: '', username: '' };
/** What the clients send to the Loki the stack uses: nothing to its own, loki.external's tenant and user to a Loki of the user's. */
export function lokiClientAuth(loki: Pick<LokiSettings, 'enabled' | 'external'>): LokiClientAuth {
  return loki.enabled ? NO_LOKI_AUTH : { tenant: loki.external.tenant, username: loki.external.basicAuth.username };
}

/**
 * Where the log agent and Grafana read the basic-auth password of a Loki of the user's
 * (loki.external.basicAuth): the user's Secret's key (Kubernetes) or the file compose/secrets/loki-password
 * (compose), mounted read-only. Promtail and Alloy read it as password_file, Grafana's provisioning as
 * $__file{…}; all three trim the surrounding whitespace.
 */
export const LOKI_PASSWORD_DIR = '/etc/loki-password';
export const LOKI_PASSWORD_FILE = `${LOKI_PASSWORD_DIR}/password`;

/** loki.external as an endpoint: the push path appended to its base URL. */
export function externalLokiEndpoint(external: LokiSettings['external']): LokiEndpoint {
  const { username, passwordSecret } = external.basicAuth;
  return { url: external.url, pushUrl: `${external.url}${LOKI_PUSH_PATH}`, tenant: external.tenant, username, ...(username ? { passwordSecret } : {}) };
}

/**
 * The variable several Loki pods read their own address from (the downward API's status.podIP), in loki.yaml as
 * `${POD_IP}` with -config.expand-env: the address each pod advertises on its rings and in memberlist.
 */
export const LOKI_POD_IP_VARIABLE = 'POD_IP';

/** Loki's command-line flags: the config file, and with several pods the expansion of ${POD_IP} in it. */
export function lokiFlags(several = false): string[] {
  return [`-config.file=${LOKI_CONFIG_FILE}`, ...(several ? ['-config.expand-env=true'] : [])];
}

/** grafana/loki: distroless (gcr.io/distroless/static:nonroot), numeric user 10001. */
export const LOKI_IMAGE_FACTS: ImageFacts = {
  image: LOKI_IMAGE,
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
      // path_prefix holds wal/, tsdb-shipper-active/, tsdb-shipper-cache/ and rules-temp/; initRulerStorage
      // creates rules_directory (EnsureDirectory) and fails the start when it cannot.
      { from: 'config', fileFlag: '-config.file', fileDefault: '/etc/loki/local-config.yaml', keys: ['common.path_prefix', 'common.storage.filesystem.chunks_directory', 'common.storage.filesystem.rules_directory', 'compactor.working_directory'], why: 'WAL, index, chunks, rules and the compactor\'s work' },
      // Retention's marker writer and sweeper use os.TempDir().
      { from: 'path', path: '/tmp', why: 'the compactor\'s retention markers (os.TempDir)' },
    ],
    reads: [
      { from: 'flag', flag: '-config.file', default: '/etc/loki/local-config.yaml', why: 'its configuration' },
    ],
    source: 'grafana/loki@v3.7.6 pkg/loki/config_wrapper.go (path_prefix defaults), pkg/loki/modules.go (initRulerStorage: EnsureDirectory of the rules directory), pkg/compactor/retention/marker.go (os.TempDir)',
  }],
};

/** The Loki binary (`COPY … /usr/bin/loki`, the ENTRYPOINT): `loki -health` checks /ready (Loki >= 3.7). */
export const LOKI_BINARY = LOKI_IMAGE_FACTS.entrypoint[0];
/** uid and gid of the image's user (numeric `USER 10001`; /loki is owned by it). */
export const LOKI_UID = LOKI_IMAGE_FACTS.user.uid;
