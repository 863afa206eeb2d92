// `npm run bench`: every benchmark, one after the other, in one run so their ratios compare.
// Figures are printed, not asserted: speed targets live here, never in the tests.
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const benches = [
  ['synthesis', ['bench/synth.mjs']],
  ['demo app throughput', ['--import', 'tsx', 'bench/app-throughput.ts']],
];
let failed = 0;
for (const [name, args] of benches) {
  console.log(`\n== ${name}`);
  const r = spawnSync(process.execPath, args, { cwd: ROOT, stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(`benchmark "${name}" failed with exit code ${r.status}`);
    failed++;
  }
}
process.exit(failed ? 1 : 0);
