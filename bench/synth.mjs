// Benchmark: medians of `npm run synth` and `cdk8s synth` (each run writes into a temp folder), measured
// in the same run so the figures compare. Target: `cdk8s synth` under 1.5 s on a 2-CPU machine.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const RUNS = Number(process.env.BENCH_RUNS ?? 7);

function time(cmd, argsFor) {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-synth-'));
  const args = argsFor(path.join(out, 'dist'));
  const start = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { cwd: ROOT, env: { ...process.env, CDK8S_OUTDIR: path.join(out, 'dist') }, encoding: 'utf8' });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  fs.rmSync(out, { recursive: true, force: true });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed:\n${r.stdout}\n${r.stderr}`);
  return ms;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const cases = [
  ['npm run synth', 'npm', () => ['run', '-s', 'synth']],
  ['cdk8s synth', path.join(ROOT, 'node_modules/.bin/cdk8s'), (out) => ['synth', '--no-check-upgrade', '--output', out]],
];
const results = Object.fromEntries(cases.map(([name]) => [name, []]));
for (let i = 0; i < RUNS; i++) {
  // Alternate the two so drift in machine load hits both alike.
  for (const [name, cmd, args] of cases) results[name].push(time(cmd, args));
}
const m = Object.fromEntries(Object.entries(results).map(([k, v]) => [k, median(v)]));
console.log(`synthesis, median of ${RUNS} runs each (alternating):`);
for (const [name, ms] of Object.entries(m)) console.log(`  ${name.padEnd(14)} ${ms.toFixed(0)} ms`);
console.log(`  ratio cdk8s synth / npm run synth: ${(m['cdk8s synth'] / m['npm run synth']).toFixed(2)}`);
console.log(`  cdk8s synth target < 1500 ms: ${m['cdk8s synth'] < 1500 ? 'met' : 'NOT met'} (${(m['cdk8s synth'] / 1500).toFixed(2)} of the budget)`);
