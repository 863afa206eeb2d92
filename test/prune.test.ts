// `kubectl apply --prune` as the README shows it: every synthesized object carries the label it selects on,
// its allowlist names every kind the stack synthesizes but the two it must never prune, and kubectl 1.35
// has the flags it uses.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { PART_OF, StackInput } from '../lib';
import { CUSTOM_INPUT, LOKI_RING_INPUT, synthObjects } from './helpers/stack';
import { ROOT } from './helm-support';

const VARIANTS: Array<[string, StackInput]> = [
  ['defaults', {}],
  ['log agent alloy', { logAgent: { kind: 'alloy' } }],
  ['customised (operator objects on)', CUSTOM_INPUT],
  ['Loki off', { loki: { enabled: false } }],
  ['Grafana and the app off', { grafana: { enabled: false }, app: { enabled: false } }],
  ['Loki on a bucket, three pods', LOKI_RING_INPUT],
  ['Grafana on PostgreSQL, three pods', { grafana: { replicas: 3, adminPasswordSecret: { name: 'grafana-admin', key: 'password' }, postgres: { enabled: true, host: 'pg.db.svc:5432', passwordSecret: { name: 'grafana-db' } } } }],
];

/** The README's prune command: the shell block after its heading, as one line. */
function pruneCommand(): string {
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('### Applying a changed stack: prune what is gone'));
  const block = /```sh\n([\s\S]*?)```/.exec(section)?.[1];
  if (!block) throw new Error('README: no sh block under "Applying a changed stack"');
  return block.replace(/\\\n\s*/g, ' ').trim();
}

/** group/version/kind as kubectl's --prune-allowlist writes it (core/v1/ConfigMap). */
const gvk = (o: any) => `${o.apiVersion.includes('/') ? o.apiVersion : `core/${o.apiVersion}`}/${o.kind}`;

describe('pruning a changed stack', () => {
  test.each(VARIANTS)('every object of the %s stack carries app.kubernetes.io/part-of', (_name, input) => {
    for (const o of synthObjects(input)) {
      expect([gvk(o), o.metadata.name, o.metadata.labels?.['app.kubernetes.io/part-of']]).toEqual([gvk(o), o.metadata.name, PART_OF]);
    }
  });

  test('the README\'s command selects on that label and allows every synthesized kind but Namespace and PersistentVolumeClaim', () => {
    const command = pruneCommand();
    expect(command).toMatch(/^kubectl apply -f dist\/ --prune -l (\S+) /);
    expect(/-l (\S+)/.exec(command)?.[1]).toBe(`app.kubernetes.io/part-of=${PART_OF}`);
    const allowed = [...command.matchAll(/--prune-allowlist=(\S+)/g)].map((m) => m[1]).sort();
    const kinds = [...new Set(VARIANTS.flatMap(([, input]) => synthObjects(input).map(gvk)))].sort();
    const never = ['core/v1/Namespace', 'core/v1/PersistentVolumeClaim'];
    const operator = kinds.filter((k) => k.startsWith('monitoring.coreos.com/'));
    expect(operator.length).toBeGreaterThan(0);
    expect(allowed).toEqual(kinds.filter((k) => !never.includes(k) && !operator.includes(k)));
    // The operator's kinds are named for clusters that have them (an unknown kind in the allowlist fails there).
    const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    for (const k of operator) expect(readme).toContain(`--prune-allowlist=${k}`);
    for (const k of never) expect(allowed).not.toContain(k);
  });

  test('kubectl 1.35 takes the flags the command uses', () => {
    const kubectl = path.join(ROOT, '.cache', 'tools', 'kubectl', 'kubectl');
    const version = spawnSync(kubectl, ['version', '--client'], { encoding: 'utf8' });
    expect(version.stdout).toContain('Client Version: v1.35.');
    const help = spawnSync(kubectl, ['apply', '--help'], { encoding: 'utf8' }).stdout;
    for (const flag of ['--prune=', '--prune-allowlist=', '-l, --selector=']) expect(help).toContain(flag);
  });
});
