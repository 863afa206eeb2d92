/**
 * The stack model: one typed, validated configuration with documented defaults, shared by every
 * rendering (cdk8s manifests, the Helm chart's values, docker compose).
 *
 * Users write a partial `StackInput` (in TypeScript, or as YAML/JSON passed to `npm run synth` through
 * `STACK_CONFIG=path`); `parseStackConfig` fills in the defaults and checks every rule up front, so
 * synthesis fails before anything is written.
 */
import { z } from 'zod';
import { APP_ENVIRONMENT_NAMES } from './components/app';
import { GRAFANA_PASSWORD_VARIABLES, GRAFANA_SETTINGS_NAMES } from './components/grafana';
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

const int = (min: number, max: number) =>
  z.number({ error: `must be an integer from ${min} to ${max}` })
    .int({ error: `must be an integer from ${min} to ${max}` })
    .min(min, { error: `must be an integer from ${min} to ${max}` })
    .max(max, { error: `must be an integer from ${min} to ${max}` });

const cpu = () => z.string({ error: 'must be a CPU quantity string such as "100m" or "1"' })
  .regex(CPU, { error: 'must be a CPU quantity such as "100m" or "1"' });
const memory = () => z.string({ error: 'must be a memory quantity string such as "256Mi" or "1Gi"' })
  .regex(MEMORY, { error: 'must be a memory quantity with a binary unit (Ki, Mi, Gi, Ti), such as "256Mi"' });

const image = (pin: ImageRef) => z.strictObject({
  /** Registry and repository. @default the pin in lib/images.ts */
  repository: z.string().regex(REPOSITORY, { error: 'must be an image repository such as "prom/prometheus"' }).default(pin.repository),
  /** Exact tag. @default the pin in lib/images.ts */
  tag: z.string().regex(TAG, { error: 'must be an image tag (letters, digits, "_", "." and "-")' })
    .refine((t) => t !== 'latest', { error: 'must be a pinned tag, not "latest" (pin the version you tested)' })
    .default(pin.tag),
  /** When the kubelet pulls the image. @default IfNotPresent (so `kind load docker-image` works) */
  pullPolicy: z.enum(['IfNotPresent', 'Always', 'Never'], { error: 'must be one of IfNotPresent, Always, Never' }).default('IfNotPresent'),
}).prefault({});

const resources = (d: { cpuRequest: string; memoryRequest: string; cpuLimit: string; memoryLimit: string }) => z.strictObject({
  requests: z.strictObject({
    cpu: cpu().default(d.cpuRequest),
    memory: memory().default(d.memoryRequest),
  }).prefault({}),
  limits: z.strictObject({
    cpu: cpu().default(d.cpuLimit),
    memory: memory().default(d.memoryLimit),
  }).prefault({}),
}).prefault({});

const storage = (size: string) => z.strictObject({
  /** Size of the PersistentVolumeClaim. */
  size: z.string().regex(STORAGE, { error: 'must be a storage quantity with a binary unit (Mi, Gi, Ti), such as "10Gi"' }).default(size),
  /** StorageClass of the claim. @default the cluster's default StorageClass (kind: `standard`) */
  storageClassName: dnsLabel().optional(),
}).prefault({});

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
 * observability-stack.podSettings, lib/compose/service-defaults.ts where compose has a counterpart).
 */
const podSettings = () => ({
  /** Schedule only on nodes with these labels. @default {} */
  nodeSelector: z.record(z.string().regex(QUALIFIED_NAME, { error: 'keys must be label keys' }), z.string().regex(LABEL_VALUE, { error: 'values must be label values' })).default({}),
  /** Tolerations, as in a pod spec (added to the stack's own, e.g. the log agent's control-plane ones). @default [] */
  tolerations: z.array(z.strictObject({
    key: z.string().regex(QUALIFIED_NAME, { error: 'must be a taint key' }).optional(),
    operator: z.enum(['Exists', 'Equal'], { error: 'must be "Exists" or "Equal"' }).optional(),
    value: z.string().regex(LABEL_VALUE, { error: 'must be a taint value' }).optional(),
    effect: z.enum(['NoSchedule', 'PreferNoSchedule', 'NoExecute'], { error: 'must be NoSchedule, PreferNoSchedule or NoExecute' }).optional(),
    tolerationSeconds: z.number().int().min(0).optional(),
  })).max(20, { error: 'must list at most 20 tolerations' }).default([]),
  /** Affinity, as in a pod spec (nodeAffinity, podAffinity, podAntiAffinity). @default {} */
  affinity: z.strictObject({
    nodeAffinity: z.record(z.string(), z.unknown()).optional(),
    podAffinity: z.record(z.string(), z.unknown()).optional(),
    podAntiAffinity: z.record(z.string(), z.unknown()).optional(),
  }).default({}),
  /** A PriorityClass for the pods; "" = none (the cluster's default). @default "" */
  priorityClassName: z.string().regex(/^([a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?)?$/, { error: 'must be a PriorityClass name (a DNS subdomain) or ""' }).default(''),
  /** Extra annotations on the pods. @default {} */
  podAnnotations: z.record(z.string().regex(QUALIFIED_NAME, { error: 'keys must be annotation keys' }), z.string()).default({}),
  /** Extra labels on the pods (not app.kubernetes.io/name or /part-of: the selectors use them). @default {} */
  podLabels: labelMap(),
  /** Secrets (of type kubernetes.io/dockerconfigjson) to pull the images with, by name. @default [] */
  imagePullSecrets: z.array(z.string().regex(DNS_LABEL, { error: 'must be Secret names (DNS-1123 labels)' })).max(10, { error: 'must list at most 10 Secrets' }).default([]),
  /** Extra environment variables of the main container, name → value (not one the stack sets itself). @default {} */
  extraEnv: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: 'names must be environment variable names (letters, digits, "_")' }), z.string()).default({}),
});

/** The pod settings of one component (lib/k8s/pod-settings.ts applies them). */
export type PodSettings = z.output<z.ZodObject<ReturnType<typeof podSettings>>>;

/** The variables the stack sets in each component's main container: extraEnv may not set them. */
export const RESERVED_ENVIRONMENT: ReservedEnvironment = {
  app: APP_ENVIRONMENT_NAMES,
  prometheus: [],
  loki: [],
  // Each log agent selects its node's pods by it.
  logAgent: ['HOSTNAME'],
  grafana: [...GRAFANA_SETTINGS_NAMES, ...GRAFANA_PASSWORD_VARIABLES],
};

/** The model's rules across settings (lib/validate-stack.ts). */
export const STACK_RULES = stackRules(RESERVED_ENVIRONMENT);

// ---------------------------------------------------------------------------------------------------
// The schema. Every default below deploys on a fresh kind cluster, and the requests of the whole default
// stack fit a 2-CPU node with room to spare (at most 1 CPU and 1.5 GiB requested).

const appSchema = z.strictObject({
  /** Deploy the demo application. @default true */
  enabled: z.boolean().default(true),
  /** Name of the app's Deployment and Service, and its `app.kubernetes.io/name`. @default demo-app */
  name: dnsLabel().default('demo-app'),
  /** Namespace of the app (Pod Security `restricted`). @default demo */
  namespace: dnsLabel().default('demo'),
  /** The app's image: build it from app/ and `kind load docker-image`, or use your own. */
  image: image(IMAGES.app),
  /** Replicas of the app's Deployment. @default 1 */
  replicas: int(1, 50).default(1),
  /** Container port that serves HTTP and /metrics. @default 8080 */
  port: int(1024, 65535).default(8080),
  /** Path of the Prometheus metrics endpoint. @default /metrics */
  metricsPath: z.string().regex(/^\/[A-Za-z0-9._~\/-]*$/, { error: 'must be an absolute URL path such as "/metrics"' }).default('/metrics'),
  /** Simulated work on `GET /`, in milliseconds (APP_LATENCY_MS). @default 50 */
  latencyMs: int(0, 60000).default(50),
  /** Share of `GET /` requests that fail with 500 (APP_ERROR_RATE). @default 0.05 */
  errorRate: z.number({ error: 'must be a number from 0 to 1' }).min(0, { error: 'must be a number from 0 to 1' }).max(1, { error: 'must be a number from 0 to 1' }).default(0.05),
  /** CPU and memory of the app container. */
  resources: resources({ cpuRequest: '50m', memoryRequest: '64Mi', cpuLimit: '500m', memoryLimit: '256Mi' }),
  /** The traffic generator: sends a realistic mix of requests so dashboards show data at once. */
  trafficGenerator: z.strictObject({
    /** Run the traffic generator. @default true */
    enabled: z.boolean().default(true),
    /** Requests per second it sends. @default 5 */
    requestsPerSecond: int(1, 1000).default(5),
    /** CPU and memory of the generator. */
    resources: resources({ cpuRequest: '10m', memoryRequest: '48Mi', cpuLimit: '200m', memoryLimit: '128Mi' }),
  }).prefault({}),
  /** A ServiceMonitor for clusters that run the Prometheus Operator. @default false */
  serviceMonitor: z.strictObject({
    enabled: z.boolean().default(false),
    /** Extra labels, e.g. `{release: kube-prometheus-stack}` so the operator's selector picks it up. @default {} */
    labels: z.record(z.string(), z.string()).default({}),
  }).prefault({}),
  /** The app's and the traffic generator's pods (extraEnv: the app's only). */
  ...podSettings(),
}).prefault({});

const remoteWriteSchema = z.strictObject({
  /** Name of the queue (shows in Prometheus's metrics). */
  name: dnsLabel(),
  /** URL of the remote-write endpoint, e.g. a Mimir or Thanos receive service. */
  url: z.string().regex(/^https?:\/\/[^\s]+$/, { error: 'must be an http(s) URL' }),
});

const prometheusSchema = z.strictObject({
  image: image(IMAGES.prometheus),
  /** How often every target is scraped, in seconds. @default 15 */
  scrapeIntervalSeconds: int(1, 3600).default(15),
  /** Scrape timeout, in seconds; at most the scrape interval. @default 10 */
  scrapeTimeoutSeconds: int(1, 3600).default(10),
  /** How often alerting and recording rules are evaluated, in seconds. @default 15 */
  evaluationIntervalSeconds: int(1, 3600).default(15),
  /** Keep samples this many days. @default 7 */
  retentionDays: int(1, 3650).default(7),
  /** Delete the oldest blocks once the TSDB is this large (Prometheus units: MB, GB, TB). @default 4GB */
  retentionSize: z.string().regex(PROM_SIZE, { error: 'must be a Prometheus size such as "512MB" or "4GB"' }).default('4GB'),
  /** The TSDB's PersistentVolumeClaim. @default 8Gi */
  storage: storage('8Gi'),
  /** Ship samples to a scalable backend as well. @default [] */
  remoteWrite: z.array(remoteWriteSchema).max(10, { error: 'must list at most 10 endpoints' }).default([]),
  /** Load the stack's alerting rules. @default true */
  alertRules: z.boolean().default(true),
  /** Also emit the rules as a PrometheusRule for clusters that run the Prometheus Operator. @default false */
  prometheusRule: z.strictObject({ enabled: z.boolean().default(false) }).prefault({}),
  /** CPU and memory of the Prometheus container. */
  resources: resources({ cpuRequest: '200m', memoryRequest: '512Mi', cpuLimit: '1', memoryLimit: '1Gi' }),
  ...podSettings(),
}).prefault({});

const lokiSchema = z.strictObject({
  /** Deploy Loki (and the log agent). @default true */
  enabled: z.boolean().default(true),
  image: image(IMAGES.loki),
  /** Delete log lines older than this many days (compactor retention). @default 7 */
  retentionDays: int(1, 3650).default(7),
  /** Loki's PersistentVolumeClaim (chunks, index, compactor). @default 10Gi */
  storage: storage('10Gi'),
  /** CPU and memory of the Loki container. */
  resources: resources({ cpuRequest: '150m', memoryRequest: '256Mi', cpuLimit: '1', memoryLimit: '1Gi' }),
  ...podSettings(),
}).prefault({});

const logAgentSchema = z.strictObject({
  /**
   * Which node log agent ships pod logs to Loki, with the same files, labels and pipeline either way.
   * Promtail reached end of life on 2026-03-02 (its last image is 3.6.11); Grafana Alloy is its successor.
   * @default promtail
   */
  kind: z.enum(['promtail', 'alloy'], { error: 'must be "promtail" or "alloy"' }).default('promtail'),
  /** Namespace of the agent, labelled Pod Security `privileged` (hostPath needs it). @default monitoring-agent */
  namespace: dnsLabel().default('monitoring-agent'),
  promtail: z.strictObject({
    image: image(IMAGES.promtail),
    resources: resources({ cpuRequest: '50m', memoryRequest: '64Mi', cpuLimit: '250m', memoryLimit: '192Mi' }),
  }).prefault({}),
  alloy: z.strictObject({
    image: image(IMAGES.alloy),
    resources: resources({ cpuRequest: '50m', memoryRequest: '96Mi', cpuLimit: '250m', memoryLimit: '256Mi' }),
  }).prefault({}),
  /** The agent's pods, whichever agent runs. */
  ...podSettings(),
}).prefault({});

const grafanaSchema = z.strictObject({
  /** Deploy Grafana. @default true */
  enabled: z.boolean().default(true),
  image: image(IMAGES.grafana),
  /** Login name of the admin user. @default admin */
  adminUser: z.string().regex(/^[A-Za-z0-9._@-]{1,64}$/, { error: 'must be 1 to 64 letters, digits, ".", "_", "@" or "-"' }).default('admin'),
  /**
   * An existing Secret holding the admin password (create it yourself; it never goes in git).
   * @default none: Grafana's first start generates a random password on its volume
   */
  adminPasswordSecret: z.strictObject({ name: dnsLabel(), key: z.string().regex(/^[-._a-zA-Z0-9]+$/, { error: 'must be a Secret key' }) }).optional(),
  /** How Grafana's Service is exposed. @default ClusterIP (use NodePort on kind with the port mapping in the README) */
  service: z.strictObject({
    type: z.enum(['ClusterIP', 'NodePort'], { error: 'must be "ClusterIP" or "NodePort"' }).default('ClusterIP'),
    /** Node port when type is NodePort. @default 30300 */
    nodePort: int(30000, 32767).default(30300),
  }).prefault({}),
  /** Grafana's PersistentVolumeClaim (sqlite database, plugins). @default 1Gi */
  storage: storage('1Gi'),
  /** CPU and memory of the Grafana container. */
  resources: resources({ cpuRequest: '100m', memoryRequest: '192Mi', cpuLimit: '500m', memoryLimit: '512Mi' }),
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
}).prefault({});

export const stackSchema = z.strictObject({
  /** Namespace of Prometheus, Grafana and Loki (Pod Security `restricted`). @default monitoring */
  namespace: dnsLabel().default('monitoring'),
  /** The cluster's DNS domain, used in the addresses components reach each other at. @default cluster.local */
  clusterDomain: z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/, { error: 'must be a DNS domain such as "cluster.local"' }).default('cluster.local'),
  /** Labels on every object of the stack (and every compose service), e.g. `{team: platform}`. @default {} */
  commonLabels: labelMap(),
  app: appSchema,
  prometheus: prometheusSchema,
  loki: lokiSchema,
  logAgent: logAgentSchema,
  grafana: grafanaSchema,
  compose: composeSchema,
}).superRefine((c, ctx) => {
  // The rules across settings: one table (lib/validate-stack.ts), which the chart applies too.
  for (const v of checkRules(c, STACK_RULES, { millicores, bytesOfQuantity, bytesOfPromSize, resourceBlocks })) {
    ctx.addIssue({ code: 'custom', path: [...v.path], message: v.message, params: { value: v.value } });
  }
});

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
    // A rule across settings may judge a value the user left to its default: show the value it judged.
    const resolved = (issue as { params?: { value?: unknown } }).params?.value;
    const got = value !== undefined ? shown(value) : resolved !== undefined ? `${shown(resolved)} (the default)` : 'nothing';
    lines.push(`${where} ${issue.message}, got ${got}`);
  }
  return lines;
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
