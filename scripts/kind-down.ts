// `npm run kind:down`: deletes the kind cluster of kind/cluster.yaml (and nothing else), after `npm run kind:up`.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { parse } from 'yaml';

const ROOT = path.resolve(__dirname, '..');
const name: string = parse(fs.readFileSync(path.join(ROOT, 'kind', 'cluster.yaml'), 'utf8')).name;
console.log(`$ kind delete cluster --name ${name}`);
const r = spawnSync('kind', ['delete', 'cluster', '--name', name], { stdio: 'inherit' });
if (r.error) {
  console.error(`npm run kind:down needs kind on PATH: ${r.error.message}`);
  process.exit(1);
}
process.exit(r.status ?? 1);
