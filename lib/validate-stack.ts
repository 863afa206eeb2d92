/**
 * The stack model's rules across settings, as one table. The model applies it (lib/config.ts), and
 * synthesis writes it into the chart (files/validate/rules.yaml), whose templates/_validate.tpl applies the
 * very same rows with the same words: no rule is written twice, and none can be forgotten by one rendering.
 *
 * Each row names the setting it judges; its message states the rule and names the other settings with their
 * values; the value judged is appended as `got <value>`, with " (the default)" when the user did not set it.
 */

/** A dotted settings path, e.g. `prometheus.scrapeTimeoutSeconds`. On Helm, `namespace` is the release namespace. */
type Path = string;

export type StackRule =
  /** A number no larger than another setting's (`why` says why, if given); only while `when` (a switch) is on, if given. */
  | { readonly kind: 'atMost'; readonly setting: Path; readonly limit: Path; readonly when?: Path; readonly why?: string }
  /** A size (Prometheus units) smaller than a storage quantity. */
  | { readonly kind: 'smallerThan'; readonly setting: Path; readonly limit: Path; readonly why: string }
  /** A value equal to none of other settings. */
  | { readonly kind: 'differsFrom'; readonly setting: Path; readonly others: readonly Path[]; readonly why: string }
  /** A switch (or a non-empty value) that needs another setting to be non-empty; only while `when` (a switch, or every switch of a list) is on, and not while `unless` (a switch) is. */
  | { readonly kind: 'requiresSet'; readonly setting: Path; readonly requires: Path; readonly why: string; readonly when?: Path | readonly Path[]; readonly unless?: Path }
  /** A switch that may be on only when another is. */
  | { readonly kind: 'requires'; readonly setting: Path; readonly requires: Path; readonly why: string }
  /** A value that must stay empty while a switch is on (the two choose the same thing two ways). */
  | { readonly kind: 'unsetWhile'; readonly setting: Path; readonly while: Path; readonly why: string }
  /** A value that must stay empty unless a switch is on (it belongs to what the switch deploys). */
  | { readonly kind: 'unsetUnless'; readonly setting: Path; readonly unless: Path; readonly why: string }
  /** A count above 1 only when a switch is on; only while `when` (a switch) is on, if given. */
  | { readonly kind: 'singleUnless'; readonly setting: Path; readonly unless: Path; readonly why: string; readonly when?: Path }
  /** Requests no larger than limits, in every requests/limits block (found in the settings, never listed). */
  | { readonly kind: 'requestsWithinLimits' }
  /** A map that must not hold these keys. */
  | { readonly kind: 'notKeys'; readonly setting: Path; readonly keys: readonly string[]; readonly why: string }
  /** A map that must hold none of another map's keys. */
  | { readonly kind: 'disjointKeys'; readonly setting: Path; readonly other: Path; readonly why: string }
  /** Values of a map that must all differ (compose only: the chart has no such settings). */
  | { readonly kind: 'distinctValues'; readonly setting: Path; readonly composeOnly: true };

/**
 * Label keys the stack sets itself on its objects and pods (its selectors use some; Helm's add instance,
 * version, managed-by and helm.sh/chart): no podLabels or commonLabels may set them.
 */
export const STACK_LABEL_KEYS = [
  'app.kubernetes.io/name', 'app.kubernetes.io/part-of', 'app.kubernetes.io/instance', 'app.kubernetes.io/component',
  'app.kubernetes.io/version', 'app.kubernetes.io/managed-by', 'helm.sh/chart',
];
/** The Pod Security labels the stack puts on its namespaces: commonLabels may not set them either. */
export const POD_SECURITY_LABEL_KEYS = ['enforce', 'enforce-version', 'warn', 'warn-version', 'audit', 'audit-version'].map((k) => `pod-security.kubernetes.io/${k}`);
/** Pod annotations the stack sets itself: the scrape annotations and the config checksum. */
export const STACK_ANNOTATION_KEYS = ['prometheus.io/scrape', 'prometheus.io/port', 'prometheus.io/path', 'checksum/config'];

/** The components whose main container takes extraEnv, and the variables the stack sets there itself. */
export interface ReservedEnvironment { readonly [component: string]: readonly string[] }

/** The rules, given the environment each component's main container gets from the stack. */
export function stackRules(reserved: ReservedEnvironment): StackRule[] {
  return [
    { kind: 'atMost', setting: 'prometheus.scrapeTimeoutSeconds', limit: 'prometheus.scrapeIntervalSeconds' },
    { kind: 'smallerThan', setting: 'prometheus.retentionSize', limit: 'prometheus.storage.size', why: 'so old blocks are deleted before the volume fills' },
    { kind: 'differsFrom', setting: 'logAgent.namespace', others: ['namespace', 'app.namespace'], why: 'the agent\'s namespace is Pod Security "privileged", the others stay "restricted"' },
    { kind: 'distinctValues', setting: 'compose.ports', composeOnly: true },
    { kind: 'requestsWithinLimits' },
    { kind: 'notKeys', setting: 'commonLabels', keys: [...STACK_LABEL_KEYS, ...POD_SECURITY_LABEL_KEYS], why: 'the stack sets it itself' },
    ...Object.keys(reserved).flatMap((component): StackRule[] => [
      { kind: 'notKeys', setting: `${component}.podLabels`, keys: STACK_LABEL_KEYS, why: 'the stack sets it itself' },
      { kind: 'disjointKeys', setting: `${component}.podLabels`, other: 'commonLabels', why: 'set it in one of the two' },
      { kind: 'notKeys', setting: `${component}.podAnnotations`, keys: STACK_ANNOTATION_KEYS, why: 'the stack sets it itself' },
      { kind: 'notKeys', setting: `${component}.extraEnv`, keys: reserved[component], why: 'the stack sets it itself' },
    ]),
    // Grafana's secret_key is a secret: never in the settings. A release that set it here keeps its key only by naming a Secret that holds the same value.
    { kind: 'notKeys', setting: 'grafana.extraEnv', keys: ['GF_SECURITY_SECRET_KEY', 'GF_SECRETS_MANAGER_ENCRYPTION_SECRET_KEY_V1_SECRET_KEY'].flatMap((k) => [k, `${k}__FILE`]), why: 'put the same value in a Secret and name it in grafana.secretKeySecret (dropping it would change Grafana\'s key, and the secrets saved under it would read as garbage)' },
    { kind: 'atMost', setting: 'alertmanager.groupIntervalSeconds', limit: 'alertmanager.repeatIntervalSeconds' },
    { kind: 'requiresSet', setting: 'alertmanager.receivers.webhook.enabled', requires: 'alertmanager.receivers.webhook.urlSecret.name', why: 'the URL comes from that Secret', when: 'alertmanager.enabled' },
    { kind: 'requiresSet', setting: 'alertmanager.receivers.slack.enabled', requires: 'alertmanager.receivers.slack.apiUrlSecret.name', why: 'the URL comes from that Secret', when: 'alertmanager.enabled' },
    { kind: 'requiresSet', setting: 'alertmanager.receivers.email.enabled', requires: 'alertmanager.receivers.email.to', why: 'someone must receive it', when: 'alertmanager.enabled' },
    { kind: 'requiresSet', setting: 'alertmanager.receivers.email.enabled', requires: 'alertmanager.receivers.email.from', why: 'the relay needs a sender', when: 'alertmanager.enabled' },
    { kind: 'requiresSet', setting: 'alertmanager.receivers.email.enabled', requires: 'alertmanager.receivers.email.smarthost', why: 'it is sent through it', when: 'alertmanager.enabled' },
    { kind: 'requiresSet', setting: 'alertmanager.receivers.email.authPasswordSecret.name', requires: 'alertmanager.receivers.email.authUsername', why: 'the password belongs to a user', when: 'alertmanager.enabled' },
    { kind: 'requiresSet', setting: 'alertmanager.receivers.email.authUsername', requires: 'alertmanager.receivers.email.authPasswordSecret.name', why: 'the relay checks the user\'s password, which comes from that Secret', when: 'alertmanager.enabled' },
    { kind: 'requires', setting: 'app.serviceMonitor.enabled', requires: 'app.enabled', why: 'there is no app to monitor' },
    { kind: 'atMost', setting: 'prometheus.scrapeTimeoutSeconds', limit: 'kubelet.scrapeIntervalSeconds', when: 'kubelet.enabled' },
    { kind: 'requiresSet', setting: 'kubelet.tls.verify', requires: 'kubelet.tls.caFile', why: 'the kubelets\' certificates are checked against that CA', when: 'kubelet.enabled' },
    { kind: 'requiresSet', setting: 'kubelet.tls.caFile', requires: 'kubelet.tls.verify', why: 'the CA is only read when certificates are verified', when: 'kubelet.enabled' },
    { kind: 'requires', setting: 'prometheus.prometheusRule.enabled', requires: 'prometheus.alertRules', why: 'the PrometheusRule holds the stack\'s rules' },
    { kind: 'notKeys', setting: 'prometheus.prometheusRule.labels', keys: STACK_LABEL_KEYS, why: 'the stack sets it itself' },
    { kind: 'atMost', setting: 'logAgent.push.batchSizeMb', limit: 'loki.ingestionLimits.burstSizeMb', when: 'loki.enabled', why: 'or Loki refuses the whole batch on every attempt (it is over the tenant\'s burst)' },
    { kind: 'atMost', setting: 'logAgent.push.batchSizeMb', limit: 'loki.ingestionLimits.perStreamBurstMb', when: 'loki.enabled', why: 'or a batch of one busy stream is refused on every attempt (it is over the stream\'s burst)' },
    { kind: 'atMost', setting: 'logAgent.push.minBackoffSeconds', limit: 'logAgent.push.maxBackoffSeconds', why: 'the first wait is the shortest' },
    { kind: 'requiresSet', setting: 'loki.storage.s3.enabled', requires: 'loki.storage.s3.since', why: 'the day the bucket\'s period starts is a choice: on a stack with logs on its volume, a day in the future', when: 'loki.enabled' },
    { kind: 'requiresSet', setting: 'loki.storage.s3.enabled', requires: 'loki.storage.s3.endpoint', why: 'Loki talks to that server', when: 'loki.enabled' },
    { kind: 'requiresSet', setting: 'loki.storage.s3.enabled', requires: 'loki.storage.s3.bucket', why: 'chunks and index go there', when: 'loki.enabled' },
    { kind: 'requiresSet', setting: 'loki.storage.s3.enabled', requires: 'loki.storage.s3.credentialsSecret.name', why: 'Loki\'s keys come from that Secret, or from the pod\'s cloud identity with loki.storage.s3.workloadIdentity: true', when: 'loki.enabled', unless: 'loki.storage.s3.workloadIdentity' },
    { kind: 'unsetWhile', setting: 'loki.storage.s3.credentialsSecret.name', while: 'loki.storage.s3.workloadIdentity', why: 'keys in the environment come first in Loki\'s S3 client, so the pod\'s identity would never be used: choose one' },
    { kind: 'unsetWhile', setting: 'loki.external.url', while: 'loki.enabled', why: 'the log agent ships to one Loki and Grafana reads one: set loki.enabled to false to use yours' },
    { kind: 'requiresSet', setting: 'loki.external.tenant', requires: 'loki.external.url', why: 'the tenant is sent to that Loki; the stack\'s own has one tenant and reads no header' },
    { kind: 'requiresSet', setting: 'loki.external.basicAuth.username', requires: 'loki.external.url', why: 'it is sent to that Loki; the stack\'s own asks for none' },
    { kind: 'requiresSet', setting: 'loki.external.basicAuth.username', requires: 'loki.external.basicAuth.passwordSecret.name', why: 'the password comes from that Secret' },
    { kind: 'requiresSet', setting: 'loki.external.basicAuth.passwordSecret.name', requires: 'loki.external.basicAuth.username', why: 'the password belongs to a user' },
    { kind: 'singleUnless', setting: 'loki.replicas', unless: 'loki.storage.s3.enabled', why: 'each pod would keep its chunks and index on its own volume, so a query would find only what the pod it reached wrote', when: 'loki.enabled' },
    { kind: 'requiresSet', setting: 'grafana.prometheusQuery.url', requires: 'prometheus.remoteWrite', why: 'the store holds only what Prometheus ships it', when: ['grafana.enabled', 'prometheus.enabled'] },
    // Without the stack's Prometheus (prometheus.enabled: false), a Prometheus of the user's scrapes the stack.
    { kind: 'requiresSet', setting: 'grafana.enabled', requires: 'grafana.prometheusQuery.url', why: 'without the stack\'s Prometheus, Grafana reads the store your Prometheus writes to', unless: 'prometheus.enabled' },
    { kind: 'unsetUnless', setting: 'prometheus.remoteWrite', unless: 'prometheus.enabled', why: 'the stack\'s Prometheus ships them; yours has remote_write of its own' },
    { kind: 'requiresSet', setting: 'networkPolicies.enabled', requires: 'prometheus.scraper.namespace', why: 'the policies let your Prometheus in from that namespace, or nothing scrapes the stack', unless: 'prometheus.enabled' },
    { kind: 'unsetWhile', setting: 'prometheus.scraper.namespace', while: 'prometheus.enabled', why: 'it names your Prometheus, which scrapes the stack only with prometheus.enabled: false' },
    { kind: 'singleUnless', setting: 'grafana.replicas', unless: 'grafana.postgres.enabled', why: 'each pod would have its own SQLite file, so users, sessions and saved dashboards would differ from one request to the next', when: 'grafana.enabled' },
    { kind: 'requiresSet', setting: 'grafana.postgres.enabled', requires: 'grafana.postgres.host', why: 'Grafana connects to that server', when: 'grafana.enabled' },
    { kind: 'requiresSet', setting: 'grafana.postgres.enabled', requires: 'grafana.postgres.passwordSecret.name', why: 'the database password comes from that Secret', when: 'grafana.enabled' },
    { kind: 'requiresSet', setting: 'grafana.postgres.enabled', requires: 'grafana.adminPasswordSecret.name', why: 'without a volume, a generated admin password would differ from pod to pod while the database keeps the first', when: 'grafana.enabled' },
  ];
}

/** One broken rule: where, and the message without the value judged. */
export interface Violation {
  readonly path: readonly string[];
  readonly message: string;
  /** The value judged, as resolved. */
  readonly value: unknown;
}

/** Quantity arithmetic the rules compare with. */
export interface RuleArithmetic {
  millicores(q: string): number;
  bytesOfQuantity(q: string): number;
  bytesOfPromSize(q: string): number;
  /** Every requests/limits block of the settings, by dotted path. */
  resourceBlocks(settings: unknown): Array<[string, { requests: { cpu: string; memory: string }; limits: { cpu: string; memory: string } }]>;
}

function at(settings: unknown, path: Path): any {
  return path.split('.').reduce<any>((v, k) => (v === null || v === undefined ? undefined : v[k]), settings);
}

/** A value as the messages show it: strings quoted, numbers and booleans as they are. */
export function shown(value: unknown): string {
  return JSON.stringify(value);
}

/** A setting not given: empty, false, or an empty list or map (as Helm's templates see an empty one). */
function isUnset(v: unknown): boolean {
  if (Array.isArray(v)) return v.length === 0;
  if (v !== null && typeof v === 'object') return Object.keys(v).length === 0;
  return !v;
}

/** Applies the rules to resolved settings; returns the broken ones. */
export function checkRules(settings: unknown, rules: readonly StackRule[], q: RuleArithmetic): Violation[] {
  const out: Violation[] = [];
  const path = (p: Path) => p.split('.');
  for (const r of rules) {
    switch (r.kind) {
      case 'atMost': {
        if (r.when && at(settings, r.when) !== true) break;
        const v = at(settings, r.setting);
        const limit = at(settings, r.limit);
        if (v > limit) out.push({ path: path(r.setting), value: v, message: `must be at most ${r.limit} (${limit})${r.why ? `, ${r.why}` : ''}` });
        break;
      }
      case 'smallerThan': {
        const v = at(settings, r.setting);
        const limit = at(settings, r.limit);
        if (q.bytesOfPromSize(v) >= q.bytesOfQuantity(limit)) out.push({ path: path(r.setting), value: v, message: `must be smaller than ${r.limit} (${limit}), ${r.why}` });
        break;
      }
      case 'differsFrom': {
        const v = at(settings, r.setting);
        if (r.others.some((o) => at(settings, o) === v)) {
          out.push({ path: path(r.setting), value: v, message: `must differ from ${r.others.map((o) => `${o} (${at(settings, o)})`).join(' and ')}: ${r.why}` });
        }
        break;
      }
      case 'distinctValues': {
        const seen = new Map<unknown, string>();
        for (const [name, v] of Object.entries<unknown>(at(settings, r.setting) ?? {})) {
          const taken = seen.get(v);
          if (taken) out.push({ path: [...path(r.setting), name], value: v, message: `must differ from ${r.setting}.${taken} (both ${v})` });
          seen.set(v, name);
        }
        break;
      }
      case 'requestsWithinLimits':
        for (const [block, res] of q.resourceBlocks(settings)) {
          if (q.millicores(res.requests.cpu) > q.millicores(res.limits.cpu)) {
            out.push({ path: [...path(block), 'requests', 'cpu'], value: res.requests.cpu, message: `must be at most ${block}.limits.cpu (${res.limits.cpu})` });
          }
          if (q.bytesOfQuantity(res.requests.memory) > q.bytesOfQuantity(res.limits.memory)) {
            out.push({ path: [...path(block), 'requests', 'memory'], value: res.requests.memory, message: `must be at most ${block}.limits.memory (${res.limits.memory})` });
          }
        }
        break;
      case 'notKeys': {
        const map = at(settings, r.setting) ?? {};
        for (const key of r.keys.filter((k) => k in map)) out.push({ path: [...path(r.setting), key], value: map[key], message: `must not be set: ${r.why}` });
        break;
      }
      case 'disjointKeys': {
        const map = at(settings, r.setting) ?? {};
        const other = at(settings, r.other) ?? {};
        for (const key of Object.keys(map).filter((k) => k in other)) {
          out.push({ path: [...path(r.setting), key], value: map[key], message: `must not repeat a key of ${r.other}: ${r.why}` });
        }
        break;
      }
      case 'requiresSet': {
        if (r.when && ([] as Path[]).concat(r.when).some((w) => at(settings, w) !== true)) break;
        if (r.unless && at(settings, r.unless) === true) break;
        const v = at(settings, r.setting);
        if ((v === true || (typeof v === 'string' && v !== '')) && isUnset(at(settings, r.requires))) {
          out.push({ path: path(r.setting), value: v, message: `needs ${r.requires} set (${r.why})` });
        }
        break;
      }
      case 'requires':
        if (at(settings, r.setting) === true && at(settings, r.requires) !== true) {
          out.push({ path: path(r.setting), value: true, message: `needs ${r.requires}: true (${r.why})` });
        }
        break;
      case 'singleUnless': {
        if (r.when && at(settings, r.when) !== true) break;
        const v = at(settings, r.setting);
        if (v > 1 && at(settings, r.unless) !== true) out.push({ path: path(r.setting), value: v, message: `must be 1 unless ${r.unless} is true (${r.why})` });
        break;
      }
      case 'unsetWhile': {
        const v = at(settings, r.setting);
        if (!isUnset(v) && at(settings, r.while) === true) out.push({ path: path(r.setting), value: v, message: `must be empty while ${r.while} is true (${r.why})` });
        break;
      }
      case 'unsetUnless': {
        const v = at(settings, r.setting);
        if (!isUnset(v) && at(settings, r.unless) !== true) out.push({ path: path(r.setting), value: v, message: `must be empty unless ${r.unless} is true (${r.why})` });
        break;
      }
    }
  }
  return out;
}
