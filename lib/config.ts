/**
 * The stack model: one typed, validated configuration with documented defaults, shared by every
 * rendering (cdk8s manifests, the Helm chart's values, docker compose).
 *
 * Users write a partial `StackInput` (in TypeScript, or as YAML/JSON passed to `npm run synth` through
 * `STACK_CONFIG=path`); `parseStackConfig` fills in the defaults and checks every rule up front, so
 * synthesis fails before anything is written.
 */
import { KUBE_STATE_METRICS_APP_LABELS, KUBE_STATE_METRICS_DEFAULT_ALLOWLIST } from './components/kube-state-metrics';
import { z } from 'zod';
import { APP_ENVIRONMENT_NAMES } from './components/app';
import { GRAFANA_ALERTING_NAMES, GRAFANA_DATABASE_NAMES, GRAFANA_DATABASE_PASSWORD_VARIABLE, GRAFANA_PASSWORD_VARIABLES, GRAFANA_POD_IP_VARIABLE, GRAFANA_SETTINGS_NAMES } from './components/grafana';
import { LOKI_POD_IP_VARIABLE, LOKI_S3_KEY_VARIABLES } from './components/loki';
import { checkRules, ReservedEnvironment, shown, stackRules } from './validate-stack';
import { IMAGES, ImageRef } from './images';

// ---------------------------------------------------------------------------------------------------
// Building blocks with messages that state the rule (the value and the setting's path are added by
// formatIssues below).

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const CPU = /^([0-9]+m|[0-9]+(\.[0-9]{1,3})?)$/;
const MEMORY = /^[0-9]+(Ki|Mi|Gi|Ti)$/;
const STORAGE = /^[0-9]+(Mi|Gi|Ti)$/;
const PROM_SIZE = /^[0-9]+(MB|GB|TB)$/;
const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const REPOSITORY = /^[a-z0-9]+([._\/-][a-z0-9]+)*(:[0-9]+)?(\/[a-z0-9]+([._-][a-z0-9]+)*)*$/;

const dnsLabel = () =>
  z.string().regex(DNS_LABEL, {
    error: 'must be a DNS-1123 label: lowercase letters, digits and "-", starting and ending with a letter or digit',
  }).max(63, { error: 'must be at most 63 characters' });

/** A pattern that also takes "" (a setting left empty). */
const orEmpty = (re: RegExp) => new RegExp(`^$|${re.source}`);

const int = (min: number, max: number) =>
  z.number({ error: `must be an integer from ${min} to ${max}` })
    .int({ error: `must be an integer from ${min} to ${max}` })
    .min(min, { error: `must be an integer from ${min} to ${max}` })
    .max(max, { error: `must be an integer from ${min} to ${max}` });

/** A number (fractions allowed) from min to max. */
const num = (min: number, max: number) =>
  z.number({ error: `must be a number from ${min} to ${max}` })
    .min(min, { error: `must be a number from ${min} to ${max}` })
    .max(max, { error: `must be a number from ${min} to ${max}` });

const cpu = () => z.string({ error: 'must be a CPU quantity string such as "100m" or "1"' })
  .regex(CPU, { error: 'must be a CPU quantity such as "100m" or "1"' });
const memory = () => z.string({ error: 'must be a memory quantity string such as "256Mi" or "1Gi"' })
  .regex(MEMORY, { error: 'must be a memory quantity with a binary unit (Ki, Mi, Gi, Ti), such as "256Mi"' });

const image = (pin: ImageRef) => z.strictObject({
  repository: z.string().regex(REPOSITORY, { error: 'must be an image repository such as "prom/prometheus"' }).default(pin.repository).describe('registry and repository, e.g. "prom/prometheus" or "registry.example.com/team/app".'),
  tag: z.string().regex(TAG, { error: 'must be an image tag (letters, digits, "_", "." and "-")' })
    .refine((t) => t !== 'latest', { error: 'must be a pinned tag, not "latest" (pin the version you tested)' })
    .default(pin.tag).describe('the exact tag to run; never "latest".'),
  pullPolicy: z.enum(['IfNotPresent', 'Always', 'Never'], { error: 'must be one of IfNotPresent, Always, Never' }).default('IfNotPresent').describe('when the kubelet pulls the image: IfNotPresent (works with `kind load docker-image`), Always or Never.'),
}).prefault({}).describe('the container image. The tag is pinned in lib/images.ts; change it only to a version you tested.');

const resources = (d: { cpuRequest: string; memoryRequest: string; cpuLimit: string; memoryLimit: string }) => z.strictObject({
  requests: z.strictObject({
    cpu: cpu().default(d.cpuRequest).describe('CPU request, a quantity string such as "100m" or "1" (use --set-string for plain numbers).'),
    memory: memory().default(d.memoryRequest).describe('memory request with a binary unit (Ki, Mi, Gi, Ti), such as "256Mi".'),
  }).prefault({}).describe('what the scheduler reserves for the container.'),
  limits: z.strictObject({
    cpu: cpu().default(d.cpuLimit).describe('CPU limit, a quantity string such as "500m" or "1" (use --set-string for plain numbers).'),
    memory: memory().default(d.memoryLimit).describe('memory limit with a binary unit (Ki, Mi, Gi, Ti); the container is OOM-killed above it.'),
  }).prefault({}).describe('the most the container may use.'),
}).prefault({}).describe('CPU and memory requests and limits of the container; requests must not exceed limits.');

const storage = (size: string) => z.strictObject({
  size: z.string().regex(STORAGE, { error: 'must be a storage quantity with a binary unit (Mi, Gi, Ti), such as "10Gi"' }).default(size).describe('size of the claim with a binary unit (Mi, Gi, Ti), such as "10Gi".'),
  storageClassName: dnsLabel().optional().describe('StorageClass of the claim; "" = the cluster\'s default class (kind: standard).'),
}).prefault({}).describe('the component\'s PersistentVolumeClaim (ReadWriteOnce).');

/** A label or annotation key: an optional DNS-subdomain prefix and "/", then a name of at most 63 characters. */
const QUALIFIED_NAME = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
/** A label value: empty, or at most 63 letters, digits, "-", "_" and ".", starting and ending alphanumeric. */
const LABEL_VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/;
const labelMap = () => z.record(
  z.string().regex(QUALIFIED_NAME, { error: 'keys must be label keys such as "team" or "example.com/team"' }),
  z.string().regex(LABEL_VALUE, { error: 'values must be label values: at most 63 letters, digits, "-", "_" and ".", starting and ending with a letter or digit' }),
).default({});

/**
 * How each component's pods are placed and dressed, the settings every chart user expects; the same keys in
 * every component block, applied by one piece of code per rendering (lib/k8s/pod-settings.ts, the chart's
 * observability-stack.podSettings, lib/compose/compose-file.ts where compose has a counterpart).
 */
const podSettings = () => ({
  nodeSelector: z.record(z.string().regex(QUALIFIED_NAME, { error: 'keys must be label keys' }), z.string().regex(LABEL_VALUE, { error: 'values must be label values' })).default({}).describe('schedule the pods only on nodes with these labels, e.g. {kubernetes.io/os: linux}.'),
  tolerations: z.array(z.strictObject({
    key: z.string().regex(QUALIFIED_NAME, { error: 'must be a taint key' }).optional(),
    operator: z.enum(['Exists', 'Equal'], { error: 'must be "Exists" or "Equal"' }).optional(),
    value: z.string().regex(LABEL_VALUE, { error: 'must be a taint value' }).optional(),
    effect: z.enum(['NoSchedule', 'PreferNoSchedule', 'NoExecute'], { error: 'must be NoSchedule, PreferNoSchedule or NoExecute' }).optional(),
    tolerationSeconds: z.number().int().min(0).optional(),
  }).superRefine((t, ctx) => {
    // The API server's ValidateTolerations (pkg/apis/core/validation): refused there, so refused here first.
    if (!t.key && t.operator !== 'Exists') ctx.addIssue({ code: 'custom', path: ['operator'], message: 'must be "Exists" when the toleration has no key' });
    if (t.operator === 'Exists' && t.value) ctx.addIssue({ code: 'custom', path: ['value'], message: 'must be empty when the operator is "Exists"' });
    if (t.tolerationSeconds !== undefined && t.effect !== 'NoExecute') ctx.addIssue({ code: 'custom', path: ['tolerationSeconds'], message: 'needs effect "NoExecute"' });
  })).max(20, { error: 'must list at most 20 tolerations' }).default([]).describe('tolerations of the pods, as in a pod spec (added to the stack\'s own).'),
  affinity: z.strictObject({
    nodeAffinity: z.record(z.string(), z.unknown()).optional(),
    podAffinity: z.record(z.string(), z.unknown()).optional(),
    podAntiAffinity: z.record(z.string(), z.unknown()).optional(),
  }).default({}).describe('affinity of the pods, as in a pod spec: nodeAffinity, podAffinity, podAntiAffinity.'),
  priorityClassName: z.string().regex(/^([a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?)?$/, { error: 'must be a PriorityClass name (a DNS subdomain) or ""' }).default('').describe('a PriorityClass for the pods; "" = none.'),
  podAnnotations: z.record(z.string().regex(QUALIFIED_NAME, { error: 'keys must be annotation keys' }), z.string()).default({}).describe('extra annotations on the pods (not the stack\'s prometheus.io/* or checksum/config).'),
  podLabels: labelMap().describe('extra labels on the pods (not the stack\'s own app.kubernetes.io/* or helm.sh/chart labels, nor a key of commonLabels).'),
  imagePullSecrets: z.array(z.string().regex(DNS_LABEL, { error: 'must be Secret names (DNS-1123 labels)' })).max(10, { error: 'must list at most 10 Secrets' }).default([]).describe('names of Secrets (kubernetes.io/dockerconfigjson) to pull the images with, in the pods\' namespace.'),
  extraEnv: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: 'names must be environment variable names (letters, digits, "_")' }), z.string()).default({}).describe('extra environment variables of the main container, name: value (not one the stack sets itself). Kubernetes expands $(VAR) references to the container\'s other variables; compose passes the text as it is.'),
});

/** The pod settings of one component (lib/k8s/pod-settings.ts applies them). */
export type PodSettings = z.output<z.ZodObject<ReturnType<typeof podSettings>>>;

/** The variables the stack sets in each component's main container: extraEnv may not set them. */
export const RESERVED_ENVIRONMENT: ReservedEnvironment = {
  app: APP_ENVIRONMENT_NAMES,
  prometheus: [],
  // Loki's S3 client reads its keys from them (loki.storage.s3).
  loki: [...Object.values(LOKI_S3_KEY_VARIABLES), LOKI_POD_IP_VARIABLE],
  alertmanager: [],
  // Each log agent selects its node's pods by it.
  logAgent: ['HOSTNAME'],
  // (GF_SECURITY_SECRET_KEY has a rule of its own: lib/validate-stack.ts.)
  grafana: [...GRAFANA_SETTINGS_NAMES, ...GRAFANA_PASSWORD_VARIABLES, ...GRAFANA_DATABASE_NAMES, GRAFANA_DATABASE_PASSWORD_VARIABLE, ...GRAFANA_ALERTING_NAMES, GRAFANA_POD_IP_VARIABLE],
  kubeStateMetrics: [],
  // It listens on the node's address, from the pod's status.
  nodeExporter: ['HOST_IP'],
};

/** The model's rules across settings (lib/validate-stack.ts). */
export const STACK_RULES = stackRules(RESERVED_ENVIRONMENT);

// ---------------------------------------------------------------------------------------------------
// The schema. Every default below deploys on a fresh kind cluster, and the requests of the whole default
// stack fit a 2-CPU node with room to spare (at most 1 CPU and 1.5 GiB requested).

const appSchema = z.strictObject({
  enabled: z.boolean().default(true).describe('deploy the demo application.'),
  name: dnsLabel().default('demo-app').describe('name of the app\'s Deployment and Service, and its app.kubernetes.io/name (the `app` label of its metrics and logs).'),
  namespace: dnsLabel().default('demo').describe('namespace of the app (Pod Security restricted); created by the chart unless it is the release namespace.'),
  image: image(IMAGES.app).describe('the app\'s image: build it from app/ and `kind load docker-image`, or use your own.'),
  replicas: int(1, 50).default(1).describe('replicas of the app\'s Deployment, 1 to 50; above 1 they are spread over the nodes, and a PodDisruptionBudget lets a node drain take one at a time.'),
  port: int(1024, 65535).default(8080).describe('container port that serves HTTP and /metrics, 1024 to 65535.'),
  metricsPath: z.string().regex(/^\/[A-Za-z0-9._~\/-]*$/, { error: 'must be an absolute URL path such as "/metrics"' }).default('/metrics').describe('path of the Prometheus metrics endpoint (the prometheus.io/path annotation).'),
  latencyMs: int(0, 60000).default(50).describe('simulated work on `GET /`, in milliseconds (APP_LATENCY_MS), 0 to 60000.'),
  errorRate: z.number({ error: 'must be a number from 0 to 1' }).min(0, { error: 'must be a number from 0 to 1' }).max(1, { error: 'must be a number from 0 to 1' }).default(0.05).describe('share of `GET /` requests that fail with 500 (APP_ERROR_RATE), 0 to 1.'),
  /** CPU and memory of the app container. */
  resources: resources({ cpuRequest: '50m', memoryRequest: '64Mi', cpuLimit: '500m', memoryLimit: '256Mi' }),
  trafficGenerator: z.strictObject({
    enabled: z.boolean().default(true).describe('run the traffic generator.'),
    requestsPerSecond: int(1, 1000).default(5).describe('requests per second it sends, 1 to 1000.'),
    /** CPU and memory of the generator. */
    resources: resources({ cpuRequest: '10m', memoryRequest: '48Mi', cpuLimit: '200m', memoryLimit: '128Mi' }),
  }).prefault({}).describe('sends a realistic mix of requests to the app so dashboards show data at once.'),
  serviceMonitor: z.strictObject({
    enabled: z.boolean().default(false).describe('create the ServiceMonitor (needs app.enabled).'),
    labels: z.record(z.string(), z.string()).default({}).describe('extra labels, e.g. {release: kube-prometheus-stack} so that operator\'s selector picks it up.'),
  }).prefault({}).describe('a ServiceMonitor for clusters that run the Prometheus Operator (rendered only when the cluster serves monitoring.coreos.com/v1).'),
  /** The app's and the traffic generator's pods (extraEnv: the app's only). */
  ...podSettings(),
}).prefault({});

/** A Mimir, Cortex or Loki tenant id: up to 150 letters, digits and !-_.*'(), not starting with "." (Mimir refuses "." and ".."). */
const tenantId = () => z.string().regex(/^([A-Za-z0-9!_*'()-][A-Za-z0-9!._*'()-]{0,149})?$/, { error: 'must be a tenant id: up to 150 letters, digits and !-_.*\'(), not starting with "."' });

const remoteWriteSchema = z.strictObject({
  /** Name of the queue (shows in Prometheus's metrics). */
  name: dnsLabel(),
  /** URL of the remote-write endpoint, e.g. a Mimir or Thanos receive service. */
  url: z.string().regex(/^https?:\/\/[^\s]+$/, { error: 'must be an http(s) URL' }),
  /** The tenant the samples go to, sent as X-Scope-OrgID (Mimir and Cortex with multitenancy); "" = none. */
  tenant: tenantId().default(''),
});

const prometheusSchema = z.strictObject({
  enabled: z.boolean().default(true).describe('deploy the stack\'s Prometheus. false: a Prometheus of yours scrapes the stack instead, loading the scrape jobs the stack renders (Kubernetes: the ConfigMap prometheus-scrape-configs; compose: compose/prometheus/scrape-configs.yml) and its rules (Kubernetes: the ConfigMap prometheus-rules, or the PrometheusRule; compose: compose/prometheus/rules/stack-rules.yaml), and Grafana reads the store it writes to (grafana.prometheusQuery.url). Of the other prometheus.* settings only these still count then: the scrape interval and timeout (written on the jobs; the interval is also Grafana\'s minimum step), alertRules and prometheusRule, and maxExemplars above 0 (Grafana\'s link from an exemplar to its log lines; your Prometheus must keep and ship the exemplars).'),
  scraper: z.strictObject({
    namespace: z.string().regex(orEmpty(DNS_LABEL), { error: 'must be a namespace name (a DNS-1123 label) or ""' }).max(63, { error: 'must be at most 63 characters' }).default('').describe('the namespace of the Prometheus of yours that scrapes the stack (prometheus.enabled: false), whose pods the network policies let in to every metrics port and to Alertmanager; required then while networkPolicies.enabled. Kubernetes only.'),
    name: dnsLabel().default('prometheus').describe('the app.kubernetes.io/name label of that Prometheus\'s pods: "prometheus" for kube-prometheus-stack and the prometheus-community chart.'),
  }).prefault({}).describe('a Prometheus of yours that scrapes the stack, when prometheus.enabled is false.'),
  image: image(IMAGES.prometheus),
  scrapeIntervalSeconds: int(1, 3600).default(15).describe('how often every target is scraped, in seconds, 1 to 3600.'),
  scrapeTimeoutSeconds: int(1, 3600).default(10).describe('scrape timeout in seconds, 1 to 3600 and at most scrapeIntervalSeconds.'),
  evaluationIntervalSeconds: int(1, 3600).default(15).describe('how often alerting and recording rules are evaluated, in seconds, 1 to 3600.'),
  retentionDays: int(1, 3650).default(7).describe('delete samples older than this many days, 1 to 3650.'),
  maxExemplars: int(0, 1_000_000).default(100_000).describe('exemplars Prometheus keeps in memory, one ring for all series (storage.exemplars.max_exemplars with the exemplar-storage feature; about 100 bytes each, so 100,000 take about 10 MB), 0 to 1,000,000; 0 turns exemplar storage off. They are the request ids on the App dashboard\'s latency graphs, each a link to its request\'s log lines.'),
  retentionSize: z.string().regex(PROM_SIZE, { error: 'must be a Prometheus size such as "512MB" or "4GB"' }).default('4GB').describe('delete the oldest blocks once the TSDB is this large (MB, GB, TB); must be smaller than storage.size.'),
  /** The TSDB's PersistentVolumeClaim. @default 8Gi */
  storage: storage('8Gi'),
  remoteWrite: z.array(remoteWriteSchema).max(10, { error: 'must list at most 10 endpoints' }).default([]).describe('also ship samples to these endpoints, at most 10: [{name: mimir, url: https://…/api/v1/push, tenant: …}]; tenant (sent as X-Scope-OrgID) for a multi-tenant Mimir or Cortex.'),
  alertRules: z.boolean().default(true).describe('load the stack\'s alerting and recording rules (files/prometheus/rules/).'),
  prometheusRule: z.strictObject({
    enabled: z.boolean().default(false).describe('create the PrometheusRule (needs alertRules).'),
    labels: labelMap().describe('extra labels on it, e.g. {release: kube-prometheus-stack}: that chart\'s Prometheus loads only the PrometheusRules its ruleSelector matches, by default `release: <its release name>`. Not one of the stack\'s own app.kubernetes.io/* or helm.sh/chart keys.'),
  }).prefault({}).describe('also emit the rules as a PrometheusRule (rendered only when the cluster serves monitoring.coreos.com/v1).'),
  /** CPU and memory of the Prometheus container. */
  resources: resources({ cpuRequest: '200m', memoryRequest: '512Mi', cpuLimit: '1', memoryLimit: '1Gi' }),
  ...podSettings(),
}).prefault({});

/** A host name or IPv4 address, optionally with a port: an S3 endpoint as Loki's `endpoint` takes it. */
const HOST_PORT = /^([A-Za-z0-9]([-A-Za-z0-9]*[A-Za-z0-9])?)(\.[A-Za-z0-9]([-A-Za-z0-9]*[A-Za-z0-9])?)*(:[0-9]{1,5})?$/;
/** An S3 bucket name: 3 to 63 lowercase letters, digits, "." and "-", starting and ending with a letter or digit. */
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
/**
 * A calendar day from 2025-01-01 to 2099-12-31 as YYYY-MM-DD (29 February in leap years only): later than the
 * filesystem period's start (LOKI_FILESYSTEM_PERIOD_START), as Loki needs its periods in order. A regex, so that
 * the chart's schema refuses the same days.
 */
const DAY_FROM_2025 = /^20(2[5-9]|[3-9][0-9])-((0[13578]|1[02])-(0[1-9]|[12][0-9]|3[01])|(0[469]|11)-(0[1-9]|[12][0-9]|30)|02-(0[1-9]|1[0-9]|2[0-8]))$|^20(28|[3579][26]|[468][048])-02-29$/;

/** The name of a Secret the settings refer to: "" for none. */
const secretName = () => z.string().regex(/^([a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?)?$/, { error: 'must be a Secret name or ""' }).default('');
/** A key of that Secret, with its default. */
const secretKey = (key: string) => z.string().regex(/^[-._a-zA-Z0-9]+$/, { error: 'must be a Secret key (letters, digits, "-", "_", ".")' }).default(key);

function lokiStorage() {
  return storage('10Gi').unwrap().extend({
    s3: z.strictObject({
      enabled: z.boolean().default(false).describe('keep chunks and the TSDB index in an S3 bucket from `since` on; the volume keeps the write-ahead log, caches, the compactor\'s work and the days before `since` (with loki.replicas above 1: the bucket holds every day, one period from the first; since only matters to a single pod).'),
      since: z.string().regex(orEmpty(DAY_FROM_2025), { error: 'must be a day from 2025-01-01 on as YYYY-MM-DD (after the filesystem period, which starts 2024-04-01)' }).default('').describe('the first day (UTC, YYYY-MM-DD) whose lines go to the bucket: a schema_config period from 00:00 UTC that day, after the filesystem one, which stays readable. On a stack with logs on its volume, a UTC day that has not begun when the change is rolled out (lines written to the volume on a day given to the bucket are no longer found); on a new stack, today. Once that day has begun, since, bucket and enabled are for good: Loki cannot roll a period back. Required with s3.enabled, never guessed.'),
      endpoint: z.string().regex(orEmpty(HOST_PORT), { error: 'must be a host name or address with an optional port, without a scheme, such as "s3.eu-west-1.amazonaws.com" or "rustfs.storage.svc:9000"' }).default('').describe('the S3 server as host or host:port, without a scheme (insecure chooses http); required with s3.enabled.'),
      bucket: z.string().regex(orEmpty(BUCKET), { error: 'must be an S3 bucket name: 3 to 63 lowercase letters, digits, "." and "-", starting and ending with a letter or digit' }).default('').describe('the bucket, which must exist; required with s3.enabled.'),
      region: z.string().regex(/^[a-z0-9-]*$/, { error: 'must be a region such as "eu-west-1" (lowercase letters, digits and "-") or ""' }).default('').describe('the region every request is signed for: the bucket\'s on AWS ("eu-west-1"), the server\'s own elsewhere (Garage: "garage", its default s3_region); "" signs for "dummy" (Loki\'s placeholder), which only servers that ignore regions accept.'),
      pathStyle: z.boolean().default(false).describe('address the bucket in the path (host/bucket/key: s3forcepathstyle) instead of the host name (bucket.host/key): true for most self-hosted servers (RustFS, Garage, MinIO), false for AWS.'),
      insecure: z.boolean().default(false).describe('talk plain http instead of https: only for a server on the same host or inside the cluster.'),
      workloadIdentity: z.boolean().default(false).describe('take the bucket\'s credentials from the pod\'s cloud identity instead of a Secret: on EKS, IAM roles for service accounts (annotate Loki\'s ServiceAccount with eks.amazonaws.com/role-arn in loki.serviceAccount.annotations) or EKS Pod Identity (associate the role with the ServiceAccount "loki"). No keys are set, so Loki\'s S3 client (the AWS SDK\'s default chain) uses what the cluster injects. Kubernetes only: compose still takes the keys from compose/.env.'),
      credentialsSecret: z.strictObject({
        name: secretName().describe('name of an existing Secret in Loki\'s namespace holding the keys; required with s3.enabled unless s3.workloadIdentity. On compose the keys come from LOKI_S3_ACCESS_KEY_ID and LOKI_S3_SECRET_ACCESS_KEY in compose/.env instead.'),
        accessKeyIdKey: secretKey('AWS_ACCESS_KEY_ID').describe('the Secret\'s key holding the access key id.'),
        secretAccessKeyKey: secretKey('AWS_SECRET_ACCESS_KEY').describe('the Secret\'s key holding the secret access key.'),
      }).prefault({}).describe('where Loki\'s S3 keys come from: never from the settings.'),
    }).prefault({}).describe('an S3-compatible bucket for chunks and index (Loki\'s storage_config.aws): they leave the volume, which keeps the write-ahead log and caches. Needed for loki.replicas above 1.'),
  }).prefault({}).describe('Loki\'s PersistentVolumeClaim (ReadWriteOnce; one per pod with loki.replicas above 1), and optionally an S3 bucket for chunks and index.');
}

/**
 * A Loki's base URL: http(s), a host without credentials, an optional path without a trailing "/", no quote or
 * backslash (it lands in Alloy's and YAML's strings as it is). Not Loki's API paths: the agents append
 * /loki/api/v1/push (LOKI_API_PATH_IN_URL refuses a pasted push URL).
 */
const LOKI_BASE_URL = /^https?:\/\/[^\s/?#@"\\]+(\/[^\s?#"\\]*[^\s/?#"\\])?$/;
/** What a base URL's path must not hold: Loki's API path (a push URL pasted as the base). The chart's schema refuses it too. */
export const LOKI_API_PATH_IN_URL = /^https?:\/\/[^/]+\/(.*\/)?loki\/api\//;

const lokiSchema = z.strictObject({
  enabled: z.boolean().default(true).describe('deploy Loki (and the log agent, which also ships to loki.external).'),
  external: z.strictObject({
    url: z.string().regex(orEmpty(LOKI_BASE_URL), { error: 'must be a Loki\'s base URL: http(s)://host[:port][/path], without credentials, quotes or a trailing "/"' })
      .refine((u) => !LOKI_API_PATH_IN_URL.test(u), { error: 'must be the Loki\'s base URL, not one of its API paths (/loki/api/…): the agents append /loki/api/v1/push' }).default('').describe('a Loki you already run, by its base URL such as "http://loki-gateway.loki.svc.cluster.local" (fully qualified: the log agent and Grafana run in different namespaces; the log agent appends /loki/api/v1/push, Grafana the query paths): with loki.enabled false, the log agent ships there and Grafana\'s Loki data source reads it; "" = none. HTTP basic auth: loki.external.basicAuth (no bearer token or mutual TLS).'),
    tenant: tenantId().default('').describe('the tenant the lines go to and are read from, sent as X-Scope-OrgID by the log agent (tenant_id) and Grafana: needed by a Loki with auth_enabled (the Loki chart\'s default); "" = none (a single-tenant Loki). Not a secret.'),
    basicAuth: z.strictObject({
      username: z.string().regex(/^[!#%-9;-\[\]-~]{0,256}$/, { error: 'must be up to 256 printable ASCII characters without spaces, ":", "\"", "$" or "\\"' }).default('').describe('the user the log agent and Grafana authenticate as (HTTP basic auth), e.g. a hosted Loki\'s user id or the gateway\'s user; "" = none. Not a secret.'),
      passwordSecret: z.strictObject({
        name: secretName().describe('name of an existing Secret holding the password (or API token), in both the release namespace (Grafana) and logAgent.namespace (the log agent): Secrets are namespaced. No "$" in it: Grafana\'s provisioning expands "$NAME" in what it reads. On compose the password is the file compose/secrets/loki-password instead (the rules still ask for a name; any will do there).'),
        key: secretKey('password').describe('the Secret\'s key holding the password.'),
      }).prefault({}).describe('where the password comes from: never from the settings. The agents and Grafana read it from a file, as a mounted Secret, trimmed of surrounding whitespace.'),
    }).prefault({}).describe('HTTP basic auth to that Loki (a gateway in front of it, or a hosted Loki): the log agent sends it with every push (basic_auth with password_file), Grafana\'s Loki data source with every query.'),
  }).prefault({}).describe('a Loki the stack uses instead of its own (loki.enabled false): the label contract, the dashboards\' log panels and the exemplars\' links hold there; Loki\'s own panels and alerts are for the stack\'s Loki only.'),
  image: image(IMAGES.loki),
  serviceAccount: z.strictObject({
    annotations: z.record(z.string().regex(QUALIFIED_NAME, { error: 'keys must be annotation keys' }), z.string()).default({}).describe('annotations on Loki\'s ServiceAccount "loki", e.g. {eks.amazonaws.com/role-arn: arn:aws:iam::111122223333:role/loki} for IAM roles for service accounts (with loki.storage.s3.workloadIdentity). Its token is still not mounted into the pod: the cluster\'s identity webhook projects one of its own.'),
  }).prefault({}).describe('Loki\'s ServiceAccount "loki", which has no permissions in the cluster: the identity a cloud can give the bucket\'s role to.'),
  retentionDays: int(1, 3650).default(7).describe('delete log lines older than this many days (compactor retention), 1 to 3650.'),
  replicas: int(1, 15).default(1).describe('Loki pods, 1 to 15; more than 1 needs loki.storage.s3 (each pod would keep its chunks and index on its own volume otherwise). Above 1 they form a ring (memberlist) as a StatefulSet with a claim each and keep every stream on min(3, replicas) of them: 3 or more keep taking lines with one pod down. Kubernetes only: compose runs one.'),
  /** Loki's PersistentVolumeClaim (chunks, index, compactor), and optionally an S3 bucket for chunks and index. @default 10Gi */
  storage: lokiStorage(),
  ingestionLimits: z.strictObject({
    rateMb: num(0.1, 1024).default(8).describe('the tenant\'s ingestion rate, in MB (2^20 bytes) of lines and structured metadata per second (ingestion_rate_mb; Loki\'s default 4), 0.1 to 1024. Pushes above it are answered 429 and retried by the agent.'),
    burstSizeMb: num(0.1, 4096).default(16).describe('how much the tenant may push at once above the rate, in MB (ingestion_burst_size_mb; Loki\'s default 6), 0.1 to 4096; at least logAgent.push.batchSizeMb.'),
    perStreamRateMb: int(1, 1024).default(3).describe('each stream\'s rate, in MB per second (per_stream_rate_limit; Loki\'s default), 1 to 1024.'),
    perStreamBurstMb: int(1, 4096).default(15).describe('how much one stream may push at once, in MB (per_stream_rate_limit_burst; Loki\'s default), 1 to 4096; at least logAgent.push.batchSizeMb, since one busy stream may fill a whole batch.'),
    maxLineSizeKb: int(1, 1024).default(256).describe('the longest line Loki accepts, in KB (2^10 bytes; max_line_size; Loki\'s default), 1 to 1024 (so it fits any stream\'s burst); a longer one is refused (reason line_too_long).'),
  }).prefault({}).describe('Loki\'s ingestion limits (limits_config). Its defaults answer a burst of 300,000 lines (about 110 MB) from one node with 429s that only the agent\'s retries absorb; these give a single-tenant stack room, and the Stack health dashboard shows what is still refused, by reason.'),
  /** CPU and memory of the Loki container. */
  resources: resources({ cpuRequest: '150m', memoryRequest: '256Mi', cpuLimit: '1', memoryLimit: '1Gi' }),
  ...podSettings(),
}).prefault({});

const logAgentSchema = z.strictObject({
  kind: z.enum(['promtail', 'alloy'], { error: 'must be "promtail" or "alloy"' }).default('promtail').describe('which agent: "promtail" or "alloy", with the same files, labels and pipeline either way. Promtail reached end of life on 2026-03-02 (3.6.11 is its last image); Grafana Alloy is its successor. Switching an installed release to alloy re-sends once the log files still on the nodes (Alloy keeps its positions apart from Promtail\'s).'),
  namespace: dnsLabel().default('monitoring-agent').describe('namespace of the node agents (the log agent and node-exporter), Pod Security privileged (hostPath, uid 0 and the host\'s network need it); must differ from the release namespace and app.namespace.'),
  promtail: z.strictObject({
    image: image(IMAGES.promtail),
    resources: resources({ cpuRequest: '50m', memoryRequest: '64Mi', cpuLimit: '250m', memoryLimit: '192Mi' }),
  }).prefault({}).describe('Promtail\'s image and resources.'),
  alloy: z.strictObject({
    image: image(IMAGES.alloy),
    resources: resources({ cpuRequest: '50m', memoryRequest: '96Mi', cpuLimit: '250m', memoryLimit: '256Mi' }),
  }).prefault({}).describe('Grafana Alloy\'s image and resources.'),
  push: z.strictObject({
    batchWaitSeconds: num(0.1, 60).default(1).describe('the longest a line waits before its batch is sent, in seconds (Promtail batchwait, Alloy batch_wait), 0.1 to 60.'),
    batchSizeMb: num(0.0625, 3).default(1).describe('the largest batch sent at once, in MB (2^20 bytes; Promtail batchsize, Alloy batch_size), 0.0625 to 3: Loki\'s distributor passes a push on to its ingester in one gRPC message of at most 4 MiB (grafana/loki#13995). At most loki.ingestionLimits.burstSizeMb and perStreamBurstMb, or Loki refuses the batch on every attempt.'),
    attempts: int(1, 100).default(10).describe('how many times a batch Loki refused (429) or failed (5xx) is sent before its lines are dropped, the first send included (Promtail backoff_config.max_retries, Alloy max_backoff_retries: dskit counts attempts, and 0 there would mean forever), 1 to 100.'),
    minBackoffSeconds: num(0.1, 60).default(0.5).describe('the first wait before a retry, in seconds, doubled each time (min_period, min_backoff_period), 0.1 to 60.'),
    maxBackoffSeconds: num(1, 3600).default(300).describe('the longest wait between retries, in seconds (max_period, max_backoff_period), 1 to 3600; at least minBackoffSeconds. With the defaults a batch is sent 10 times over 4 to 8.5 minutes (each wait drawn between the backoff and twice it) before its lines are dropped.'),
  }).prefault({}).describe('how the agent batches and pushes lines to Loki, and retries.'),
  /** The agent's pods, whichever agent runs. */
  ...podSettings(),
}).prefault({});

const grafanaSchema = z.strictObject({
  enabled: z.boolean().default(true).describe('deploy Grafana.'),
  image: image(IMAGES.grafana),
  adminUser: z.string().regex(/^[A-Za-z0-9._@-]{1,64}$/, { error: 'must be 1 to 64 letters, digits, ".", "_", "@" or "-"' }).default('admin').describe('login name of the admin user, 1 to 64 letters, digits, ".", "_", "@" or "-".'),
  adminPasswordSecret: z.strictObject({
    name: dnsLabel().describe('name of the Secret in the release namespace; "" = generate a password.'),
    key: z.string().regex(/^[-._a-zA-Z0-9]+$/, { error: 'must be a Secret key' }).describe('the key of the Secret that holds the password.'),
  }).optional().describe('an existing Secret holding the admin password. With no name, an init container generates a random password onto Grafana\'s volume once (NOTES.txt prints the command that reads it).'),
  service: z.strictObject({
    type: z.enum(['ClusterIP', 'NodePort'], { error: 'must be "ClusterIP" or "NodePort"' }).default('ClusterIP').describe('ClusterIP (reach it with kubectl port-forward) or NodePort (kind: kind/cluster.yaml maps node port 30300 to 127.0.0.1:3000).'),
    nodePort: int(30000, 32767).default(30300).describe('node port when type is NodePort, 30000 to 32767.'),
  }).prefault({}).describe('how Grafana\'s Service is exposed.'),
  prometheusQuery: z.strictObject({
    url: z.string().regex(/^$|^https?:\/\/[^\s]+$/, { error: 'must be an http(s) URL or ""' }).default('').describe('the query endpoint Grafana\'s Prometheus data source reads instead of the stack\'s Prometheus: a store that prometheus.remoteWrite feeds (with prometheus.enabled false: the store your Prometheus writes to, required then), such as Mimir\'s "http://mimir-query-frontend.mimir.svc:8080/prometheus" or Thanos Query\'s "http://thanos-query.thanos.svc:10902"; "" = the stack\'s Prometheus. The stack\'s Prometheus, if it runs, still scrapes, evaluates the alerts and keeps retentionDays.'),
    type: z.enum(['Mimir', 'Thanos', 'Cortex', 'Prometheus'], { error: 'must be "Mimir", "Thanos", "Cortex" or "Prometheus"' }).default('Mimir').describe('what answers at url (the data source\'s prometheusType): Mimir, Thanos, Cortex or Prometheus.'),
    tenant: tenantId().default('').describe('sent as X-Scope-OrgID on every query (Mimir and Cortex with multitenancy; Thanos reads THANOS-TENANT and ignores it), the same tenant as the prometheus.remoteWrite queue (or your Prometheus\'s remote_write) that feeds the store; "" = none. Not a secret: it names the tenant, the store\'s authentication does not come from here.'),
  }).prefault({}).describe('a long-term store Grafana queries for metrics (Mimir, Thanos, Cortex): the dashboards and the label contract hold there, since remote write ships the series as Prometheus keeps them.'),
  secretKeySecret: z.strictObject({
    name: secretName().describe('name of an existing Secret in the stack\'s namespace holding the key (any long random text, e.g. `openssl rand -base64 32`); "" = Grafana\'s built-in default, which is public. On compose the key comes from GRAFANA_SECRET_KEY in compose/.env instead.'),
    key: secretKey('secret-key').describe('the Secret\'s key holding it.'),
  }).prefault({}).describe('Grafana\'s secret_key ([security], and the newer secrets manager\'s [secrets_manager.encryption.secret_key.v1], whose default is the same public text in Grafana\'s source; not verified in 13.2.0), which encrypts the secrets saved in its database (data source passwords and headers, contact points\' credentials) and signs its sessions: set it when Grafana first starts on a database, above all an external one, whose backups would otherwise be readable by anyone who knows Grafana\'s default. Changing it later (adding it included) logs everyone out and turns every secret saved in the UI into garbage, without an error: they must be typed in again (the stack\'s own data sources are rewritten at each start). Keep the Secret unchanged; a non-empty value.'),
  replicas: int(1, 10).default(1).describe('Grafana pods, 1 to 10; more than 1 needs grafana.postgres (each pod would have its own SQLite file otherwise). Kubernetes only: compose runs one.'),
  postgres: z.strictObject({
    enabled: z.boolean().default(false).describe('keep Grafana\'s database (users, dashboards saved in the UI, sessions) in an existing PostgreSQL database instead of a SQLite file on Grafana\'s volume; Grafana then has no volume, and needs grafana.adminPasswordSecret. Nothing is copied from the SQLite file, whose volume claim goes.'),
    host: z.string().regex(orEmpty(HOST_PORT), { error: 'must be a host name or address with an optional port, such as "postgres.db.svc:5432"' }).default('').describe('the server as host:port, such as "postgres.db.svc:5432"; required with postgres.enabled.'),
    database: z.string().regex(/^[A-Za-z_][A-Za-z0-9_-]{0,62}$/, { error: 'must be a database name: a letter or "_", then up to 62 letters, digits, "_" or "-"' }).default('grafana').describe('the database, which must exist; Grafana creates its tables at its first start.'),
    user: z.string().regex(/^[A-Za-z_][A-Za-z0-9_-]{0,62}$/, { error: 'must be a user name: a letter or "_", then up to 62 letters, digits, "_" or "-"' }).default('grafana').describe('the user Grafana logs in as; it owns the database\'s tables.'),
    sslMode: z.enum(['disable', 'require', 'verify-full'], { error: 'must be "disable", "require" or "verify-full"' }).default('require').describe('TLS to the server: require (encrypted, the certificate not checked), verify-full (checked against the system\'s CAs and the host name) or disable (plain, only for a server on the same node).'),
    passwordSecret: z.strictObject({
      name: secretName().describe('name of an existing Secret in the stack\'s namespace holding the user\'s password; required with postgres.enabled. On compose the password comes from GRAFANA_DATABASE_PASSWORD in compose/.env instead.'),
      key: secretKey('password').describe('the Secret\'s key holding the password.'),
    }).prefault({}).describe('where the database password comes from: never from the settings.'),
    caSecret: z.strictObject({
      name: secretName().describe('name of an existing Secret in the stack\'s namespace holding the CA certificate (PEM) the server\'s certificate is checked against, as a private CA issues it (CloudNativePG, an operator, an internal PKI); "" = the system\'s CAs. Kubernetes only.'),
      key: secretKey('ca.crt').describe('the Secret\'s key holding it.'),
    }).prefault({}).describe('the CA for sslMode verify-full (Grafana\'s [database] ca_cert_path).'),
  }).prefault({}).describe('an external PostgreSQL database for Grafana, which more than one Grafana pod needs.'),
  /** Grafana's PersistentVolumeClaim (sqlite database, plugins); none with postgres. @default 1Gi */
  storage: storage('1Gi'),
  /** CPU and memory of the Grafana container. */
  resources: resources({ cpuRequest: '100m', memoryRequest: '192Mi', cpuLimit: '500m', memoryLimit: '512Mi' }),
  ...podSettings(),
}).prefault({});

/** A key of an existing Secret holding a receiver's secret; name "" = not given. */
const secretRef = (key: string) => z.strictObject({
  name: secretName().describe('name of an existing Secret in the stack\'s namespace; "" = none.'),
  key: secretKey(key).describe('the key of the Secret that holds it.'),
}).prefault({});

const alertmanagerSchema = z.strictObject({
  enabled: z.boolean().default(true).describe('deploy Alertmanager, and point Prometheus and Grafana at it.'),
  image: image(IMAGES.alertmanager),
  storage: storage('256Mi'),
  resources: resources({ cpuRequest: '10m', memoryRequest: '32Mi', cpuLimit: '100m', memoryLimit: '64Mi' }),
  groupWaitSeconds: int(0, 3600).default(30).describe('how long to wait for more alerts of a new group before the first notification, in seconds.'),
  groupIntervalSeconds: int(1, 86400).default(300).describe('how long to wait before notifying about new alerts of a group already notified, in seconds.'),
  repeatIntervalSeconds: int(60, 604800).default(14400).describe('how long before a still-firing group is notified again, in seconds; at least groupIntervalSeconds.'),
  receivers: z.strictObject({
    webhook: z.strictObject({
      enabled: z.boolean().default(false).describe('POST Alertmanager\'s JSON to a URL.'),
      urlSecret: secretRef('url').describe('the Secret key holding the URL (it often carries a token); on compose: the file compose/alertmanager/secrets/webhook-url.'),
      sendResolved: z.boolean().default(true).describe('notify when the alert resolves too.'),
    }).prefault({}).describe('a generic webhook receiver.'),
    slack: z.strictObject({
      enabled: z.boolean().default(false).describe('post to Slack through an incoming webhook.'),
      apiUrlSecret: secretRef('url').describe('the Secret key holding the incoming-webhook URL; on compose: the file compose/alertmanager/secrets/slack-api-url.'),
      channel: z.string().regex(/^[#@]?[a-z0-9][-a-z0-9_.]{0,79}$/, { error: 'must be a Slack channel such as "#alerts"' }).default('#alerts').describe('the channel to post to.'),
      sendResolved: z.boolean().default(true).describe('notify when the alert resolves too.'),
    }).prefault({}).describe('a Slack receiver.'),
    email: z.strictObject({
      enabled: z.boolean().default(false).describe('send email through an SMTP relay.'),
      to: z.string().regex(/^([^\s@,]+@[^\s@,]+(,\s*[^\s@,]+@[^\s@,]+)*)?$/, { error: 'must be email addresses, separated by commas' }).default('').describe('the recipients, comma-separated.'),
      from: z.string().regex(/^([^\s@]+@[^\s@]+)?$/, { error: 'must be an email address' }).default('').describe('the sender address.'),
      smarthost: z.string().regex(/^([A-Za-z0-9.-]+:[0-9]{1,5})?$/, { error: 'must be host:port' }).default('').describe('the SMTP relay, host:port.'),
      authUsername: z.string().max(256).default('').describe('the SMTP user; "" = no authentication. With a user, authPasswordSecret names its password; Go\'s SMTP client sends it only over TLS (requireTls) or to localhost.'),
      authPasswordSecret: secretRef('password').describe('the Secret key holding the SMTP password (with authUsername); on compose: the file compose/alertmanager/secrets/smtp-password.'),
      requireTls: z.boolean().default(true).describe('require STARTTLS.'),
      sendResolved: z.boolean().default(false).describe('notify when the alert resolves too.'),
    }).prefault({}).describe('an email receiver.'),
  }).prefault({}).describe('who hears of warning and critical alerts; with none, alerts stay on Alertmanager\'s page and in Grafana.'),
  ...podSettings(),
}).prefault({});

/** Where Prometheus's pod holds the cluster's CA (the service account's), which signs kubelet serving certificates issued through CSRs. */
export const SERVICE_ACCOUNT_CA_FILE = '/var/run/secrets/kubernetes.io/serviceaccount/ca.crt';

const kubeletSchema = z.strictObject({
  enabled: z.boolean().default(true).describe('scrape every node\'s kubelet: /metrics/cadvisor (job cadvisor: CPU, memory, network, file systems of every container) and /metrics (job kubelet: volumes, the kubelet itself).'),
  scrapeIntervalSeconds: int(10, 60).default(30).describe('how often the kubelet jobs scrape, in seconds, 10 (the kubelet\'s housekeeping interval) to 60 (the Containers dashboard\'s rates span 4 minutes at least: 4 scrapes); at least prometheus.scrapeTimeoutSeconds.'),
  tls: z.strictObject({
    verify: z.boolean().default(false).describe('verify the kubelets\' serving certificates. Off by default: on kind and kubeadm clusters each kubelet serves a self-signed certificate that no CA can verify (the token still authenticates Prometheus, but the connection could be intercepted on the node network). Turn it on where kubelets serve certificates signed by a CA (serverTLSBootstrap), and name it in caFile.'),
    caFile: z.string().regex(/^(\/[^\s]*)?$/, { error: 'must be an absolute path in Prometheus\'s container, or ""' }).default('').describe(`the CA that signed the kubelets' serving certificates, a path in Prometheus's container: ${SERVICE_ACCOUNT_CA_FILE} is the cluster CA, which signs certificates issued through approved kubernetes.io/kubelet-serving requests.`),
  }).prefault({}).describe('how Prometheus checks the kubelets\' HTTPS certificates; it authenticates with its service-account token either way.'),
}).prefault({});

const kubeStateMetricsSchema = z.strictObject({
  enabled: z.boolean().default(true).describe('deploy kube-state-metrics (Kubernetes): restarts, OOM kills, requests and limits, pod phases, the labels `app` comes from.'),
  image: image(IMAGES.kubeStateMetrics),
  metricLabelsAllowlist: z.string()
    .regex(/^[a-z]+=\[[A-Za-z0-9._\/*-]+(,[A-Za-z0-9._\/*-]+)*\](,[a-z]+=\[[A-Za-z0-9._\/*-]+(,[A-Za-z0-9._\/*-]+)*\])*$/, { error: 'must be resource=[label,...] (comma-separated), e.g. pods=[app.kubernetes.io/name,app]' })
    .refine((v) => !/[[,]\*[\],]/.test(v), { error: 'must not list "*": every label of every object would become a series label' })
    .refine((v) => KUBE_STATE_METRICS_APP_LABELS.every((l) => new RegExp(`(^|,)pods=\\[([^\\]]*,)?${l.replace(/\./g, '\\.')}[,\\]]`).test(v)), { error: `must keep pods=[${KUBE_STATE_METRICS_APP_LABELS.join(',')}]: the \`app\` of container series comes from them` })
    .default(KUBE_STATE_METRICS_DEFAULT_ALLOWLIST)
    .describe('the Kubernetes labels kube-state-metrics exports as label_* on kube_<resource>_labels, as resource=[label,...]; the stack\'s `app` needs pods=[app.kubernetes.io/name,app]. Every label added multiplies series: never "*".'),
  resources: resources({ cpuRequest: '10m', memoryRequest: '64Mi', cpuLimit: '100m', memoryLimit: '256Mi' }),
  ...podSettings(),
}).prefault({});

const nodeExporterSchema = z.strictObject({
  enabled: z.boolean().default(true).describe('deploy node-exporter: CPU, memory, file systems, disks and network of every node (Kubernetes: a DaemonSet in logAgent.namespace, which is Pod Security privileged; compose: one service reading the host).'),
  image: image(IMAGES.nodeExporter),
  resources: resources({ cpuRequest: '10m', memoryRequest: '32Mi', cpuLimit: '250m', memoryLimit: '128Mi' }),
  ...podSettings(),
}).prefault({});

const composeSchema = z.strictObject({
  /** The compose project's `name:`. @default observability */
  projectName: dnsLabel().default('observability'),
  /** Host ports, published on 127.0.0.1 only, for what a person opens. */
  ports: z.strictObject({
    grafana: int(1, 65535).default(3000),
    prometheus: int(1, 65535).default(9090),
    app: int(1, 65535).default(8080),
  }).prefault({}),
  cadvisor: z.strictObject({
    enabled: z.boolean().default(true).describe('run cAdvisor: CPU, memory, throttling and network of every container of the stack\'s project (the Containers dashboard and the container alerts). It reads Docker\'s socket, which is root on the host even mounted read-only: set false where no container may hold it.'),
    image: image(IMAGES.cadvisor),
    resources: resources({ cpuRequest: '50m', memoryRequest: '64Mi', cpuLimit: '500m', memoryLimit: '256Mi' }),
  }).prefault({}).describe('cAdvisor on the docker host (on Kubernetes each node\'s kubelet serves its series: `kubelet`).'),
  apps: z.array(z.strictObject({
    name: dnsLabel().describe('the compose service name of your app: the `app` label of its series and logs.'),
    project: z.string().regex(/^[a-z0-9][a-z0-9_-]*$/, { error: 'must be a compose project name: lowercase letters, digits, "-" and "_", starting with a letter or digit (compose lowercases a directory\'s name and drops other characters: "My Shop" runs as "myshop")' }).describe('the compose project your app runs in (its `name:`, or the directory compose takes it from): the `namespace` label of its series and logs.'),
    port: int(1, 65535).describe('the container port it serves its metrics on.'),
    metricsPath: z.string().regex(/^\/[^\s?#]*$/, { error: 'must be an absolute path without a query' }).default('/metrics').describe('the path it serves its metrics at.'),
    container: z.string().regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/, { error: 'must be a container name' }).optional().describe('its container name: Prometheus reaches it by this name on the stack\'s frontend network, and it is the `pod` and `container` labels; default <project>-<name>-1, as compose names the first replica.'),
  })).max(50, { error: 'must list at most 50 apps' }).default([]).describe('your own apps on this docker host, in their own compose projects: Prometheus scrapes each (it must join the stack\'s frontend network), and the log agent keeps its project\'s lines (its service must log with the stack\'s json-file options). See compose/README.md.'),
}).prefault({});

export const stackSchema = z.strictObject({
  /** Namespace of Prometheus, Grafana and Loki (Pod Security `restricted`). @default monitoring */
  namespace: dnsLabel().default('monitoring'),
  clusterDomain: z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/, { error: 'must be a DNS domain such as "cluster.local"' }).default('cluster.local').describe('the cluster\'s DNS domain, used in the addresses the components reach each other at.'),
  commonLabels: labelMap().describe('labels on every object of the release and its pods, e.g. {team: platform} (not the stack\'s own app.kubernetes.io/*, helm.sh/chart or pod-security.kubernetes.io/* labels).'),
  app: appSchema.describe('the demo application (built from app/) and its traffic generator.'),
  prometheus: prometheusSchema.describe('Prometheus: discovers pods annotated prometheus.io/scrape in every namespace, applies the label contract, evaluates the stack\'s rules; or, with enabled: false, the scrape jobs and rules a Prometheus of yours loads to do the same.'),
  loki: lokiSchema.describe('Loki, monolithic, on filesystem storage or an S3 bucket, with compactor retention that really deletes.'),
  logAgent: logAgentSchema.describe('the node log agent: a DaemonSet tailing /var/log/pods and pushing to Loki; deployed whenever logs are shipped (loki.enabled, or loki.external.url), so it has no enabled switch of its own.'),
  kubeStateMetrics: kubeStateMetricsSchema.describe('kube-state-metrics in the stack\'s namespace, scraped by a job of its own (Kubernetes only; compose has no cluster objects to describe).'),
  nodeExporter: nodeExporterSchema.describe('node-exporter on every node (Kubernetes, host network and host filesystems read-only) or on the docker host (compose), scraped by a job of its own (job="node-exporter").'),
  kubelet: kubeletSchema.describe('container and kubelet metrics from each node\'s kubelet (Kubernetes; read with nodes/metrics, never nodes/proxy).'),
  alertmanager: alertmanagerSchema.describe('Alertmanager: routes the stack\'s alerts to the receivers set here, grouped by namespace, app and alert.'),
  grafana: grafanaSchema.describe('Grafana with its Prometheus (default), Loki and Alertmanager data sources provisioned from files.'),
  networkPolicies: z.strictObject({
    enabled: z.boolean().default(true).describe('create NetworkPolicies: in each of the stack\'s namespaces deny ingress to the stack\'s pods, then let in exactly what the stack needs (Prometheus to every metrics port, Grafana to Prometheus, Loki and Alertmanager, the log agent to Loki, anyone to Grafana and the app). Ingress only; egress is not restricted. Enforced where the cluster\'s network plugin implements NetworkPolicy (kind does from v0.25).'),
  }).prefault({}).describe('NetworkPolicies for the stack\'s pods (Kubernetes; on compose the networks do this: compose/README.md).'),
  compose: composeSchema,
}).superRefine((c, ctx) => {
  // The rules across settings: one table (lib/validate-stack.ts), which the chart applies too.
  for (const v of checkRules(c, STACK_RULES, { millicores, bytesOfQuantity, bytesOfPromSize, resourceBlocks })) {
    ctx.addIssue({ code: 'custom', path: [...v.path], message: v.message, params: { value: v.value } });
  }
  // Compose only (the chart has no compose block): a user's service named as a stack service would answer for
  // it on the shared network; two apps of one project with one name are one app.
  const taken = [...COMPOSE_STACK_SERVICE_NAMES, c.app.name, `${c.app.name}-traffic`];
  const seen = new Set<string>();
  c.compose.apps.forEach((a, i) => {
    if (taken.includes(a.name)) ctx.addIssue({ code: 'custom', path: ['compose', 'apps', i, 'name'], message: `must not be the name of a service of the stack (${taken.join(', ')}): on the shared network it would answer for the stack's own`, params: { value: a.name } });
    const key = `${a.project}/${a.name}`;
    if (seen.has(key)) ctx.addIssue({ code: 'custom', path: ['compose', 'apps', i, 'name'], message: `must be listed once per project (${a.project} lists it twice)`, params: { value: a.name } });
    seen.add(key);
  });
});

/** The compose services of the stack besides the demo app and its traffic generator, each named as its component (lib/compose/names.ts). */
export const COMPOSE_STACK_SERVICE_NAMES = ['prometheus', 'grafana', 'loki', 'promtail', 'alloy', 'alertmanager', 'node-exporter', 'cadvisor'] as const;

/** A requests/limits block, as the model and the chart's values hold it. */
export interface ResourceBlock {
  readonly requests: { readonly cpu: string; readonly memory: string };
  readonly limits: { readonly cpu: string; readonly memory: string };
}

/** Every requests/limits block in a settings object, with its dotted path (`logAgent.alloy.resources`), in key order. */
export function resourceBlocks(settings: unknown, prefix: string[] = []): Array<[string, ResourceBlock]> {
  if (settings === null || typeof settings !== 'object' || Array.isArray(settings)) return [];
  const o = settings as Record<string, any>;
  if (o.requests && o.limits && typeof o.requests.cpu === 'string' && typeof o.limits.memory === 'string') return [[prefix.join('.'), o as ResourceBlock]];
  return Object.entries(o).flatMap(([k, v]) => resourceBlocks(v, [...prefix, k]));
}

/** What users write: every setting optional. */
export type StackInput = z.input<typeof stackSchema>;
/** The resolved model: every default filled in, every rule checked. */
export type StackConfig = z.output<typeof stackSchema>;
export type Resources = StackConfig['prometheus']['resources'];
/** Each component's block of the settings, as its construct takes it. */
export type AppSettings = StackConfig['app'];
export type PrometheusSettings = StackConfig['prometheus'];
export type LokiSettings = StackConfig['loki'];
export type LogAgentSettings = StackConfig['logAgent'];
/** How the log agent pushes to Loki. */
export type LogAgentPushSettings = StackConfig['logAgent']['push'];
export type GrafanaSettings = StackConfig['grafana'];
export type AlertmanagerSettings = StackConfig['alertmanager'];
export type KubeletSettings = StackConfig['kubelet'];
export type KubeStateMetricsSettings = StackConfig['kubeStateMetrics'];
export type NodeExporterSettings = StackConfig['nodeExporter'];
export type ImageSettings = StackConfig['prometheus']['image'];

/** Raised for invalid settings; `problems` holds one line per setting. */
export class StackConfigError extends Error {
  constructor(public readonly problems: string[]) {
    super(`Invalid stack configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'StackConfigError';
  }
}

/** Fills in the defaults and checks every rule; throws a StackConfigError naming each bad setting. */
export function parseStackConfig(input: unknown = {}): StackConfig {
  const result = stackSchema.safeParse(input ?? {});
  if (!result.success) throw new StackConfigError(formatIssues(result.error.issues, input));
  return result.data;
}

function formatIssues(issues: readonly z.core.$ZodIssue[], input: unknown): string[] {
  const lines: string[] = [];
  for (const issue of issues) {
    // Keys that are not identifiers (a label key such as app.kubernetes.io/name) are written ["…"].
    const path = issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : /^[A-Za-z_][A-Za-z0-9_]*$/.test(String(p)) ? String(p) : `[${JSON.stringify(String(p))}]`));
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        const where = joinPath([...path, key]);
        lines.push(`${where} is not a known setting (check the spelling; the settings are documented in lib/config.ts)`);
      }
      continue;
    }
    const where = path.length ? joinPath(path) : '(the whole configuration)';
    if (issue.code === 'invalid_key') {
      // A bad key of a map: the key is the value at fault, and the key schema's message says the rule.
      const inner = (issue as { issues?: Array<{ message: string }> }).issues?.[0]?.message ?? issue.message;
      lines.push(`${where}: ${inner}, got the key ${JSON.stringify(String(issue.path.at(-1)))}`);
      continue;
    }
    const value = valueAt(input, issue.path.map(String));
    // A rule across settings judges the resolved value, which may be a default: show it, and say so when it
    // equals the default (as the chart does, which cannot tell what the user set).
    const params = (issue as { params?: { value?: unknown } }).params;
    const isDefault = params && JSON.stringify(valueAt(defaultSettings(), issue.path.map(String))) === JSON.stringify(params.value);
    const got = params ? `${shown(params.value)}${isDefault ? ' (the default)' : ''}` : value !== undefined ? shown(value) : 'nothing';
    lines.push(`${where} ${issue.message}, got ${got}`);
  }
  return lines;
}

/** The settings with every default and nothing else (for the messages' "(the default)"). */
let defaultsCache: StackConfig | undefined;
function defaultSettings(): StackConfig {
  return (defaultsCache ??= stackSchema.parse({}));
}

function valueAt(input: unknown, path: string[]): unknown {
  let v: unknown = input;
  for (const key of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string, unknown>)[key];
  }
  return v;
}

// ---------------------------------------------------------------------------------------------------
// Quantity arithmetic for the cross-field rules (and the resource budget test).

/** Millicores of a CPU quantity ("100m" → 100, "1" → 1000, "0.5" → 500). */
export function millicores(q: string): number {
  return q.endsWith('m') ? Number(q.slice(0, -1)) : Math.round(Number(q) * 1000);
}

/** Bytes of a binary-unit quantity ("256Mi"). */
export function bytesOfQuantity(q: string): number {
  const m = /^([0-9]+)(Ki|Mi|Gi|Ti)$/.exec(q);
  if (!m) throw new Error(`not a binary-unit quantity: ${q}`);
  const exp = { Ki: 1, Mi: 2, Gi: 3, Ti: 4 }[m[2] as 'Ki'];
  return Number(m[1]) * 1024 ** exp;
}

/** Bytes of a Prometheus size ("4GB"; Prometheus's units are powers of 1024). */
export function bytesOfPromSize(q: string): number {
  const m = /^([0-9]+)(MB|GB|TB)$/.exec(q);
  if (!m) throw new Error(`not a Prometheus size: ${q}`);
  const exp = { MB: 2, GB: 3, TB: 4 }[m[2] as 'MB'];
  return Number(m[1]) * 1024 ** exp;
}

/** `a.b[0].c` from path segments (array indexes already written as `[n]`). */
function joinPath(segments: string[]): string {
  return segments.reduce((acc, s) => (s.startsWith('[') || !acc ? acc + s : `${acc}.${s}`), '');
}
