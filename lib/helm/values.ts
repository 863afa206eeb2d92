/**
 * The Helm chart's values: the stack model's settings in the shape a Helm user edits (maps rather than
 * lists, so `--set` reaches every key; images with a digest; "" for "unset"), generated from the model's
 * defaults into charts/observability-stack/values.yaml, with a comment on every key.
 *
 * `chartValues` goes from the model to values, `valuesToStackInput` back. The chart's tests render the chart
 * with every ci/ values file and compare the objects with what the cdk8s constructs make from the
 * `valuesToStackInput` of the same values, so the two renderings cannot drift apart.
 */
import { stringify } from 'yaml';
import { ImageSettings, parseStackConfig, StackConfig, StackInput } from '../config';
import { IMAGES } from '../images';

/** Where the chart lives, relative to the repository root. */
export const CHART_DIR = 'charts/observability-stack';

/** An image as the chart takes it: the model's image plus an optional digest. */
export interface ChartImage {
  repository: string;
  tag: string;
  /** `sha256:…`; when set, the image is pulled as `repository:tag@digest`. "" = none. */
  digest: string;
  pullPolicy: ImageSettings['pullPolicy'];
}

/** A PersistentVolumeClaim as the chart takes it: storageClassName "" = the cluster's default class. */
export interface ChartStorage {
  size: string;
  storageClassName: string;
}

/**
 * A part of the model in the chart's shape: images gain a digest, a storage's class is "" when unset, and
 * every optional key is present (Helm merges values.yaml under the user's values, so a key missing from
 * values.yaml cannot be set at all).
 */
type ChartShape<T> = T extends ImageSettings ? ChartImage
  : T extends { size: string; storageClassName?: string } ? ChartStorage
  : T extends readonly unknown[] ? T
  : T extends object ? { -readonly [K in keyof T]-?: ChartShape<T[K]> }
  : T;

type Model = ChartShape<Omit<StackConfig, 'namespace' | 'compose'>>;

/** The chart's values (the shape of values.yaml): the model's, less what the chart decides, plus chart-only keys. */
export type ChartValues = { clusterDomain: string; namespaces: { create: boolean } }
  & Omit<Model, 'clusterDomain' | 'prometheus' | 'grafana'>
  & {
    prometheus: Omit<Model['prometheus'], 'remoteWrite'> & {
      /** name → endpoint; a map so `--set prometheus.remoteWrite.mimir.url=…` works. */
      remoteWrite: Record<string, { url: string }>;
    };
    grafana: Omit<Model['grafana'], 'adminPasswordSecret'> & { adminPasswordSecret: { name: string; key: string } };
    /** The `helm test` pods (chart only: the model has no counterpart). */
    tests: { image: ChartImage };
  };

/** The key an `adminPasswordSecret` is read from when only its name is given. */
export const DEFAULT_ADMIN_PASSWORD_SECRET_KEY = 'password';

/** Is this part of the settings an image (repository, tag, pullPolicy)? */
function isImage(v: unknown): v is ImageSettings {
  return v !== null && typeof v === 'object' && 'repository' in v && 'tag' in v && 'pullPolicy' in v;
}

/** Walks a settings tree, rebuilding every plain object with `leaf` applied to each key's value first. */
function mapTree(v: unknown, leaf: (key: string, value: unknown) => unknown): unknown {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return v;
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, mapTree(leaf(k, x), leaf)]));
}

/**
 * The chart's values for a resolved model: the model's settings key for key, in the model's order, with
 * images given a digest (""), a storage's unset class as "", remote-write endpoints as a map, and Grafana's
 * unset adminPasswordSecret as {name: ""}. The model's `namespace` is not among them: the chart puts
 * Prometheus, Loki and Grafana in the release namespace (`helm install -n …`); nor is its `compose` block.
 * `namespaces` and `tests` are the chart's own.
 */
export function chartValues(c: StackConfig): ChartValues {
  const { namespace: _namespace, compose: _compose, clusterDomain, ...components } = c;
  const shaped = mapTree(components, (key, v) => {
    if (isImage(v)) return { repository: v.repository, tag: v.tag, digest: '', pullPolicy: v.pullPolicy };
    if (key === 'storage' && v && typeof v === 'object') return { ...v, storageClassName: (v as { storageClassName?: string }).storageClassName ?? '' };
    if (key === 'remoteWrite' && Array.isArray(v)) return Object.fromEntries(v.map((r: { name: string; url: string }) => [r.name, { url: r.url }]));
    return v;
  }) as Omit<ChartValues, 'clusterDomain' | 'namespaces' | 'tests'>;
  const secret = c.grafana.adminPasswordSecret;
  return {
    clusterDomain,
    namespaces: { create: true },
    ...shaped,
    // Always there (a model without it generates a password), after adminUser as in the model's schema.
    grafana: Object.fromEntries(Object.entries(shaped.grafana).flatMap(([k, x]) => (k === 'adminPasswordSecret' ? []
      : k === 'adminUser' ? [[k, x], ['adminPasswordSecret', { name: secret?.name ?? '', key: secret?.key ?? DEFAULT_ADMIN_PASSWORD_SECRET_KEY }]]
      : [[k, x]]))) as ChartValues['grafana'],
    // The pinned Prometheus image, whatever prometheus.image is: its busybox has the wget the test pods
    // run, which a user's choice (e.g. the -distroless variant) may lack.
    tests: { image: { ...IMAGES.prometheus, digest: '', pullPolicy: 'IfNotPresent' } },
  } as ChartValues;
}

/** The chart's default values: the model's defaults. */
export function defaultChartValues(): ChartValues {
  return chartValues(parseStackConfig({}));
}

/**
 * The model's input for a set of chart values (complete, as Helm merges them over values.yaml) installed
 * into `releaseNamespace`: chartValues undone. A digest has no counterpart in the model: it is refused here,
 * so a parity check never compares images that differ by one.
 */
export function valuesToStackInput(v: ChartValues, releaseNamespace: string): StackInput {
  const { namespaces: _namespaces, tests: _tests, clusterDomain, ...components } = v;
  const input = mapTree(components, (key, x) => {
    if (isImage(x)) {
      const image = x as unknown as ChartImage;
      if (image.digest) throw new Error(`valuesToStackInput: image ${image.repository}:${image.tag} has a digest, which the model cannot express`);
      return { repository: image.repository, tag: image.tag, pullPolicy: image.pullPolicy };
    }
    if (key === 'storage' && x && typeof x === 'object') {
      const { storageClassName, ...rest } = x as ChartStorage;
      return storageClassName ? { ...rest, storageClassName } : rest;
    }
    // Helm ranges over a map in key order; so does this.
    if (key === 'remoteWrite' && x && typeof x === 'object' && !Array.isArray(x)) {
      const endpoints = x as Record<string, { url: string }>;
      return Object.keys(endpoints).sort().map((name) => ({ name, url: endpoints[name].url }));
    }
    if (key === 'adminPasswordSecret' && x && typeof x === 'object') return (x as { name: string }).name ? x : undefined;
    return x;
  }) as Record<string, any>;
  if (input.grafana?.adminPasswordSecret === undefined) delete input.grafana?.adminPasswordSecret;
  return { namespace: releaseNamespace, clusterDomain, ...input } as StackInput;
}

// ---------------------------------------------------------------------------------------------------
// The comment of every key: values.yaml prints it above the key (`# key -- text`), values.schema.json
// carries it as the key's description. Keys shared by several components (image, resources, storage) are
// documented once, by their last path segments.

const SHARED_DOCS: Record<string, string> = {
  'image': 'the container image. The tag is pinned in lib/images.ts; change it only to a version you tested.',
  'image.repository': 'registry and repository, e.g. "prom/prometheus" or "registry.example.com/team/app".',
  'image.tag': 'the exact tag to run; never "latest".',
  'image.digest': 'optional "sha256:…" digest; when set the image is pulled as repository:tag@digest. "" = none.',
  'image.pullPolicy': 'when the kubelet pulls the image: IfNotPresent (works with `kind load docker-image`), Always or Never.',
  'resources': 'CPU and memory requests and limits of the container; requests must not exceed limits.',
  'resources.requests': 'what the scheduler reserves for the container.',
  'resources.requests.cpu': 'CPU request, a quantity string such as "100m" or "1" (use --set-string for plain numbers).',
  'resources.requests.memory': 'memory request with a binary unit (Ki, Mi, Gi, Ti), such as "256Mi".',
  'resources.limits': 'the most the container may use.',
  'resources.limits.cpu': 'CPU limit, a quantity string such as "500m" or "1" (use --set-string for plain numbers).',
  'resources.limits.memory': 'memory limit with a binary unit (Ki, Mi, Gi, Ti); the container is OOM-killed above it.',
  'nodeSelector': 'schedule the pods only on nodes with these labels, e.g. {kubernetes.io/os: linux}.',
  'tolerations': 'tolerations of the pods, as in a pod spec (added to the stack\'s own).',
  'affinity': 'affinity of the pods, as in a pod spec: nodeAffinity, podAffinity, podAntiAffinity.',
  'priorityClassName': 'a PriorityClass for the pods; "" = none.',
  'podAnnotations': 'extra annotations on the pods.',
  'podLabels': 'extra labels on the pods (not app.kubernetes.io/name or /part-of: the selectors use them).',
  'imagePullSecrets': 'names of Secrets (kubernetes.io/dockerconfigjson) to pull the images with, in the pods\' namespace.',
  'extraEnv': 'extra environment variables of the main container, name: value (not one the stack sets itself).',
  'storage': 'the component\'s PersistentVolumeClaim (ReadWriteOnce).',
  'storage.size': 'size of the claim with a binary unit (Mi, Gi, Ti), such as "10Gi".',
  'storage.storageClassName': 'StorageClass of the claim; "" = the cluster\'s default class (kind: standard).',
};

const DOCS: Record<string, string> = {
  'clusterDomain': 'the cluster\'s DNS domain, used in the addresses the components reach each other at.',
  'commonLabels': 'labels on every object of the release and its pods, e.g. {team: platform}.',
  'namespaces': 'the namespaces this chart creates besides the release namespace (which Helm does not label; see the README).',
  'namespaces.create': 'create app.namespace (Pod Security restricted) and logAgent.namespace (privileged). Set false when they exist already; they must then carry those labels.',
  'app': 'the demo application (built from app/) and its traffic generator.',
  'app.enabled': 'deploy the demo application.',
  'app.name': 'name of the app\'s Deployment and Service, and its app.kubernetes.io/name (the `app` label of its metrics and logs).',
  'app.namespace': 'namespace of the app (Pod Security restricted); created by the chart unless it is the release namespace.',
  'app.image': 'the app\'s image: build it from app/ and `kind load docker-image`, or use your own.',
  'app.replicas': 'replicas of the app\'s Deployment, 1 to 50.',
  'app.port': 'container port that serves HTTP and /metrics, 1024 to 65535.',
  'app.metricsPath': 'path of the Prometheus metrics endpoint (the prometheus.io/path annotation).',
  'app.latencyMs': 'simulated work on `GET /`, in milliseconds (APP_LATENCY_MS), 0 to 60000.',
  'app.errorRate': 'share of `GET /` requests that fail with 500 (APP_ERROR_RATE), 0 to 1.',
  'app.trafficGenerator': 'sends a realistic mix of requests to the app so dashboards show data at once.',
  'app.trafficGenerator.enabled': 'run the traffic generator.',
  'app.trafficGenerator.requestsPerSecond': 'requests per second it sends, 1 to 1000.',
  'app.serviceMonitor': 'a ServiceMonitor for clusters that run the Prometheus Operator (rendered only when the cluster serves monitoring.coreos.com/v1).',
  'app.serviceMonitor.enabled': 'create the ServiceMonitor (needs app.enabled).',
  'app.serviceMonitor.labels': 'extra labels, e.g. {release: kube-prometheus-stack} so that operator\'s selector picks it up.',
  'prometheus': 'Prometheus: discovers pods annotated prometheus.io/scrape in every namespace; always deployed (it is the stack\'s core, so it has no enabled switch).',
  'prometheus.scrapeIntervalSeconds': 'how often every target is scraped, in seconds, 1 to 3600.',
  'prometheus.scrapeTimeoutSeconds': 'scrape timeout in seconds, 1 to 3600 and at most scrapeIntervalSeconds.',
  'prometheus.evaluationIntervalSeconds': 'how often alerting and recording rules are evaluated, in seconds, 1 to 3600.',
  'prometheus.retentionDays': 'delete samples older than this many days, 1 to 3650.',
  'prometheus.retentionSize': 'delete the oldest blocks once the TSDB is this large (MB, GB, TB); must be smaller than storage.size.',
  'prometheus.remoteWrite': 'also ship samples to these endpoints, at most 10, keyed by queue name: {mimir: {url: https://…/api/v1/push}}.',
  'prometheus.alertRules': 'load the stack\'s alerting and recording rules (files/prometheus/rules/).',
  'prometheus.prometheusRule': 'also emit the rules as a PrometheusRule (rendered only when the cluster serves monitoring.coreos.com/v1).',
  'prometheus.prometheusRule.enabled': 'create the PrometheusRule (needs alertRules).',
  'loki': 'Loki, monolithic, on filesystem storage, with compactor retention that really deletes.',
  'loki.enabled': 'deploy Loki and the log agent.',
  'loki.retentionDays': 'delete log lines older than this many days (compactor retention), 1 to 3650.',
  'logAgent': 'the node log agent: a DaemonSet tailing /var/log/pods and pushing to Loki; deployed with Loki (loki.enabled), so it has no enabled switch of its own.',
  'logAgent.kind': 'which agent: "promtail" or "alloy", with the same files, labels and pipeline either way. Promtail reached end of life on 2026-03-02 (3.6.11 is its last image); Grafana Alloy is its successor. Switching an installed release to alloy re-sends once the log files still on the nodes (Alloy keeps its positions apart from Promtail\'s).',
  'logAgent.namespace': 'namespace of the agent, Pod Security privileged (hostPath and uid 0 need it); must differ from the release namespace and app.namespace.',
  'logAgent.promtail': 'Promtail\'s image and resources.',
  'logAgent.alloy': 'Grafana Alloy\'s image and resources.',
  'grafana': 'Grafana with its Prometheus (default) and Loki data sources provisioned from files.',
  'grafana.enabled': 'deploy Grafana.',
  'grafana.adminUser': 'login name of the admin user, 1 to 64 letters, digits, ".", "_", "@" or "-".',
  'grafana.adminPasswordSecret': 'an existing Secret holding the admin password. With no name, an init container generates a random password onto Grafana\'s volume once (NOTES.txt prints the command that reads it).',
  'grafana.adminPasswordSecret.name': 'name of the Secret in the release namespace; "" = generate a password.',
  'grafana.adminPasswordSecret.key': 'the key of the Secret that holds the password.',
  'grafana.service': 'how Grafana\'s Service is exposed.',
  'grafana.service.type': 'ClusterIP (reach it with kubectl port-forward) or NodePort (kind: add the port mapping from the README).',
  'grafana.service.nodePort': 'node port when type is NodePort, 30000 to 32767.',
  'tests': 'the `helm test` pods, which check Prometheus /-/ready, Grafana /api/health and the app\'s metrics with busybox wget.',
  'tests.image': 'image of the `helm test` pods; it must have busybox wget: the pinned Prometheus image has it, its -distroless variant does not. Set it too when your images come from a mirror.',
};

/** The comment of the key at `path` (dot-separated); throws when there is none, so no key goes undocumented. */
export function valueDoc(path: string): string {
  if (DOCS[path]) return DOCS[path];
  const segments = path.split('.');
  for (let n = Math.min(3, segments.length); n >= 1; n--) {
    const suffix = segments.slice(-n).join('.');
    if (SHARED_DOCS[suffix]) return SHARED_DOCS[suffix];
  }
  throw new Error(`values.yaml key ${path} has no comment: add one to lib/helm/values.ts`);
}

/** First lines of values.yaml (line 1 points editors at the schema). */
export const VALUES_HEADER = [
  '# yaml-language-server: $schema=values.schema.json',
  '# Generated by `npm run synth` from the stack model\'s defaults (lib/config.ts, lib/images.ts) and the comments in',
  '# lib/helm/values.ts. Do not edit: change those and synthesize again. Override any key with -f my-values.yaml or --set.',
];

/** values.yaml: every key of `values` with its comment (`# key -- text`) on the line above it. */
export function renderValuesYaml(values: ChartValues = defaultChartValues()): string {
  const lines = [...VALUES_HEADER];
  const emit = (obj: Record<string, unknown>, path: string[], indent: string) => {
    for (const [key, value] of Object.entries(obj)) {
      const keyPath = [...path, key];
      if (path.length === 0) lines.push('');
      for (const line of wrap(`${key} -- ${valueDoc(keyPath.join('.'))}`, 110 - indent.length)) lines.push(`${indent}# ${line}`);
      if (value !== null && typeof value === 'object' && !Array.isArray(value) && Object.keys(value).length > 0) {
        lines.push(`${indent}${key}:`);
        emit(value as Record<string, unknown>, keyPath, `${indent}  `);
      } else {
        lines.push(`${indent}${key}: ${scalar(value)}`);
      }
    }
  };
  emit(values as unknown as Record<string, unknown>, [], '');
  return `${lines.join('\n')}\n`;
}

/** A value on one line, quoted when YAML needs it ("1", "", "on"), `{}` for an empty map. */
function scalar(value: unknown): string {
  // Lists only where Kubernetes has them (tolerations, imagePullSecrets), and empty here: keys a user adds
  // go in maps, so --set reaches every key.
  if (Array.isArray(value) && value.length > 0) throw new Error('values.yaml holds maps, and lists only empty (so --set reaches every key)');
  return stringify(value, { lineWidth: 0 }).trimEnd();
}

/** Splits a comment into lines of at most `width` characters; continuation lines are indented by two. */
function wrap(text: string, width: number): string[] {
  const out: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && line.length + 1 + word.length > width) {
      out.push(line);
      line = `  ${word}`;
    } else {
      line = line ? `${line} ${word}` : word;
    }
  }
  if (line) out.push(line);
  return out;
}
