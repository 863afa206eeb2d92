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
import { z } from 'zod';
import { ImageSettings, parseStackConfig, StackConfig, stackSchema, StackInput } from '../config';
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
 * A part of the model in the chart's shape: images gain a digest, a storage's class is "" when unset (its other
 * keys, Loki's s3, as they are), and
 * every optional key is present (Helm merges values.yaml under the user's values, so a key missing from
 * values.yaml cannot be set at all).
 */
type ChartShape<T> = T extends ImageSettings ? ChartImage
  : T extends { size: string; storageClassName?: string } ? ChartStorage & ChartShape<Omit<T, 'size' | 'storageClassName'>>
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
      remoteWrite: Record<string, { url: string; tenant?: string }>;
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
    if (key === 'remoteWrite' && Array.isArray(v)) return Object.fromEntries(v.map((r: { name: string; url: string; tenant: string }) => [r.name, { url: r.url, ...(r.tenant ? { tenant: r.tenant } : {}) }]));
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
      const endpoints = x as Record<string, { url: string; tenant?: string }>;
      return Object.keys(endpoints).sort().map((name) => ({ name, url: endpoints[name].url, ...(endpoints[name].tenant ? { tenant: endpoints[name].tenant } : {}) }));
    }
    if (key === 'adminPasswordSecret' && x && typeof x === 'object') return (x as { name: string }).name ? x : undefined;
    return x;
  }) as Record<string, any>;
  if (input.grafana?.adminPasswordSecret === undefined) delete input.grafana?.adminPasswordSecret;
  return { namespace: releaseNamespace, clusterDomain, ...input } as StackInput;
}

/**
 * The words of values.yaml's comments and values.schema.json's descriptions: the model's own (its schema
 * carries them, lib/config.ts), and for what only the chart has, these.
 */
const CHART_DOCS: Record<string, string> = {
  'namespaces': 'the namespaces this chart creates besides the release namespace (which Helm does not label; see the README).',
  'namespaces.create': 'create app.namespace (Pod Security restricted) and logAgent.namespace (privileged: the log agent and node-exporter). Set false when they exist already; they must then carry those labels.',
  'prometheus.remoteWrite': 'also ship samples to these endpoints, at most 10, keyed by queue name: {mimir: {url: https://…/api/v1/push, tenant: …}}; tenant (sent as X-Scope-OrgID) for a multi-tenant Mimir or Cortex.',
  'tests': 'the `helm test` pods, which check Prometheus /-/ready, Grafana /api/health and the app\'s metrics with busybox wget.',
  'tests.image': 'image of the `helm test` pods; it must have busybox wget: the pinned Prometheus image has it, its -distroless variant does not. Set it too when your images come from a mirror.',
};

/** The chart adds a digest to every image. */
const DIGEST_DOC = 'optional "sha256:…" digest; when set the image is pulled as repository:tag@digest. "" = none.';

/** The model's settings as JSON Schema, with the descriptions its schema carries. */
const MODEL_SCHEMA = z.toJSONSchema(stackSchema, { io: 'input', unrepresentable: 'throw', target: 'draft-7' }) as Record<string, any>;

/** The description the model's schema gives the setting at `path`, if any. */
function modelDoc(path: string): string | undefined {
  let node: Record<string, any> | undefined = MODEL_SCHEMA;
  for (const key of path.split('.')) node = node?.properties?.[key];
  return node?.description;
}

/** The comment of the key at `path` (dot-separated); throws when there is none, so no key goes undocumented. */
export function valueDoc(path: string): string {
  const doc = CHART_DOCS[path]
    ?? (path.endsWith('.image.digest') ? DIGEST_DOC : undefined)
    // The test pods' image has the shape, and so the words, of Prometheus's.
    ?? modelDoc(path.startsWith('tests.image.') ? path.replace(/^tests\./, 'prometheus.') : path);
  if (!doc) throw new Error(`values.yaml key ${path} has no description: describe it in lib/config.ts (or, chart only, in lib/helm/values.ts)`);
  return doc;
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
