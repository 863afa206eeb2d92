#!/usr/bin/env node
// `npm test`: the project's one test command. Plain Node ESM, no dependencies.
//
//   1. Make sure `prometheus` and `promtool` are on PATH (the Debian package `prometheus`, 2.42). The
//      Prometheus tests run the real binaries; they are not optional, and there is no switch to skip them.
//      Missing and running as root: install them with apt-get. Missing and not root: stop and say what to run.
//   2. Type-check the whole project: `npx tsc --noEmit -p tsconfig.json`.
//   3. Run Jest: `npx jest <any arguments given to this script>`.
//
// The exit code is the first failing step's. Usage: `npm test`, `npm test -- test/support`, `npm test -- -t promtool`.
//
// Note on the Debian package: where systemd runs, installing it also starts a `prometheus` service on
// port 9090. Nothing here depends on that port being free: every test Prometheus listens on a random
// loopback port (see test/support/prometheus.ts).
import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (this file lives in scripts/), so `npm test` works from any directory. */
const root = dirname(dirname(fileURLToPath(import.meta.url)));
const REQUIRED_BINARIES = ['prometheus', 'promtool'];

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

function missingBinaries() {
  return REQUIRED_BINARIES.filter((name) => !which(name));
}

/** Step 1: prometheus and promtool, installed from Debian when we may. Returns an exit code. */
function ensurePrometheus() {
  let missing = missingBinaries();
  if (missing.length === 0) return 0;

  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!isRoot) {
    console.error(
      `${missing.join(' and ')} not found on PATH. The tests run the real Prometheus 2.42 and promtool from ` +
        `Debian's \`prometheus\` package. Install it with:\n\n    sudo apt-get install prometheus\n`,
    );
    return 1;
  }

  console.log(`${missing.join(' and ')} not found on PATH; installing the Debian package \`prometheus\`.`);
  const apt = { DEBIAN_FRONTEND: 'noninteractive' };
  let code = run('apt-get', ['update'], apt);
  if (code !== 0) return code;
  code = run('apt-get', ['install', '-y', 'prometheus'], apt);
  if (code !== 0) return code;

  missing = missingBinaries();
  if (missing.length > 0) {
    console.error(`apt-get installed \`prometheus\` but ${missing.join(' and ')} is still not on PATH (${process.env.PATH}).`);
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

function main() {
  let code = ensurePrometheus();
  if (code !== 0) return code;
  reportPrometheusVersion();

  code = run('npx', ['tsc', '--noEmit', '-p', 'tsconfig.json']);
  if (code !== 0) return code;

  return run('npx', ['jest', ...process.argv.slice(2)]);
}

process.exit(main());
