import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { MANIFEST_HEADER, parseStackConfig, renderManifests, synthesize } from '../lib';
import { tempDir } from './helpers/temp-dir';
import { sharedPath } from './support/shared-dir';

const ROOT = path.resolve(__dirname, '..');

function snapshotDir(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of fs.readdirSync(dir).sort()) out[name] = fs.readFileSync(path.join(dir, name), 'utf8');
  return out;
}

function tempDirWithSentinel(): string {
  const dir = tempDir('synth-test-');
  const dist = path.join(dir, 'dist');
  fs.mkdirSync(dist);
  fs.writeFileSync(path.join(dist, 'previous.k8s.yaml'), 'kind: Previous\n');
  return dist;
}

describe('synthesis', () => {
  test('dist/ holds exactly what the model renders (run `npm run synth` after changing lib/)', () => {
    const rendered = renderManifests(parseStackConfig({}));
    const committed = snapshotDir(path.join(ROOT, 'dist'));
    expect(Object.keys(committed)).toEqual([...rendered.keys()]);
    for (const [name, content] of rendered) {
      if (committed[name] !== content) throw new Error(`dist/${name} differs from what lib/ renders: run \`npm run synth\` and commit dist/`);
    }
  });

  test('is deterministic: the same input renders byte-identical files', () => {
    const a = renderManifests(parseStackConfig({ grafana: { service: { type: 'NodePort' } } }));
    const b = renderManifests(parseStackConfig({ grafana: { service: { type: 'NodePort' } } }));
    expect([...a.entries()]).toEqual([...b.entries()]);
  });

  test('names files so namespaces come first, and heads each with the command that makes it', () => {
    const files = renderManifests(parseStackConfig({}));
    expect([...files.keys()]).toEqual(['0000-observability-namespaces.k8s.yaml', '0001-observability.k8s.yaml']);
    for (const content of files.values()) expect(content.startsWith(MANIFEST_HEADER)).toBe(true);
    expect(MANIFEST_HEADER).toContain('npm run synth');
  });

  test('replaces the output folder: files from an earlier synthesis do not linger', () => {
    const dist = tempDirWithSentinel();
    synthesize({}, { distDir: dist });
    expect(fs.readdirSync(dist).sort()).toEqual(['0000-observability-namespaces.k8s.yaml', '0001-observability.k8s.yaml']);
    // compose/ is synthesized next to dist/ (test/compose-synth.test.ts); no staging folder is left behind.
    expect(fs.readdirSync(path.dirname(dist)).sort()).toEqual(['compose', 'dist']);
  });

  test('throws on bad settings and leaves the output folder as it was', () => {
    const dist = tempDirWithSentinel();
    const before = snapshotDir(dist);
    expect(() => synthesize({ prometheus: { retentionDays: 0 } }, { distDir: dist })).toThrow(
      'prometheus.retentionDays must be an integer from 1 to 3650, got 0',
    );
    expect(snapshotDir(dist)).toEqual(before);
    expect(fs.readdirSync(path.dirname(dist))).toEqual(['dist']);
  });

  test('the synth command exits 1 naming the setting and writes nothing', () => {
    const dist = tempDirWithSentinel();
    const before = snapshotDir(dist);
    const bad = path.join(path.dirname(dist), 'bad.yaml');
    fs.writeFileSync(bad, 'grafana:\n  replicaCount: 3\nloki:\n  retentionDays: 0\n');
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'main.ts'], {
      cwd: ROOT,
      env: { ...process.env, STACK_CONFIG: bad, CDK8S_OUTDIR: dist },
      encoding: 'utf8',
    });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('Synthesis failed; nothing was written.');
    expect(run.stderr).toContain('grafana.replicaCount is not a known setting');
    expect(run.stderr).toContain('loki.retentionDays must be an integer from 1 to 3650, got 0');
    expect(snapshotDir(dist)).toEqual(before);
  });

  test('the synth command names an unreadable settings file', () => {
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'main.ts'], {
      cwd: ROOT,
      env: { ...process.env, STACK_CONFIG: '/nonexistent/stack.yaml', CDK8S_OUTDIR: path.join(os.tmpdir(), 'never-written') },
      encoding: 'utf8',
    });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('STACK_CONFIG names "/nonexistent/stack.yaml", which cannot be read');
    expect(fs.existsSync(path.join(os.tmpdir(), 'never-written'))).toBe(false);
  });
});

describe('imports/', () => {
  test('holds exactly what `cdk8s import` makes from the Prometheus Operator CRDs', () => {
    const out = tempDir('imports-');
    const crds = sharedPath('crds');
    for (const [name, file] of [['servicemonitor', 'monitoring.coreos.com_servicemonitors.yaml'], ['prometheusrule', 'monitoring.coreos.com_prometheusrules.yaml']]) {
      execFileSync(path.join(ROOT, 'node_modules/.bin/cdk8s'), ['import', `${name}:=${path.join(crds, file)}`, '--no-save', '--no-check-upgrade', '-l', 'typescript', '-o', out], { cwd: out, stdio: 'pipe' });
    }
    expect(snapshotDir(out)).toEqual(snapshotDir(path.join(ROOT, 'imports')));
  });
});
