// Test helpers around the REAL Alertmanager 0.25 and amtool from Debian's `prometheus-alertmanager` package
// (scripts/test.mjs installs it with apt-get). The pinned image is 0.34; 0.25 lacks one key the stack uses,
// the webhook's `url_file` (0.34 has it): forVersion025() swaps it for `url` with the file's content, the one
// adaptation, as withFileSd() swaps Kubernetes discovery for Prometheus 2.42.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { stringify } from 'yaml';
import { freePort, waitFor } from './prometheus';
import { tempDir } from '../helpers/temp-dir';

/** A rendered config made runnable by 0.25: secret file paths moved to `dir`, the webhook's url_file read into url. */
export function forVersion025(config: Record<string, any>, secrets: Record<string, string>, dir: string): Record<string, any> {
  const copy = JSON.parse(JSON.stringify(config));
  for (const [name, value] of Object.entries(secrets)) fs.writeFileSync(path.join(dir, name), value);
  const moved = (p: string) => path.join(dir, path.basename(p));
  for (const receiver of copy.receivers ?? []) {
    for (const w of receiver.webhook_configs ?? []) {
      w.url = fs.readFileSync(moved(w.url_file), 'utf8');
      delete w.url_file;
    }
    for (const s of receiver.slack_configs ?? []) if (s.api_url_file) s.api_url_file = moved(s.api_url_file);
    for (const e of receiver.email_configs ?? []) if (e.auth_password_file) e.auth_password_file = moved(e.auth_password_file);
  }
  return copy;
}

/** `amtool <args>` in `cwd`; never throws on a non-zero exit. */
export function amtool(args: string[], cwd: string): { code: number; output: string; stdout: string } {
  const r = spawnSync('amtool', args, { cwd, encoding: 'utf8', timeout: 30_000 });
  if (r.error) throw new Error(`could not run amtool: ${r.error.message} (sudo apt-get install prometheus-alertmanager)`);
  return { code: r.status ?? 1, output: `${r.stdout}${r.stderr}`, stdout: r.stdout };
}

/** Writes a config into a fresh dir and runs `amtool check-config` on it. */
export function checkConfig(config: Record<string, any>, dir = tempDir('amtool-')): { code: number; output: string; file: string } {
  const file = path.join(dir, 'alertmanager.yml');
  fs.writeFileSync(file, stringify(config));
  return { ...amtool(['check-config', file], dir), file };
}

export interface RunningAlertmanager {
  readonly url: string;
  stop(): Promise<void>;
}

/** Runs prometheus-alertmanager on a loopback port with `config` (no HA gossip), until /-/ready answers 200. */
export async function startAlertmanager(config: Record<string, any>): Promise<RunningAlertmanager> {
  const dir = tempDir('alertmanager-');
  fs.writeFileSync(path.join(dir, 'alertmanager.yml'), stringify(config));
  const port = await freePort();
  const child: ChildProcess = spawn('prometheus-alertmanager', [
    `--config.file=${path.join(dir, 'alertmanager.yml')}`,
    `--storage.path=${path.join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`,
    '--cluster.listen-address=',
  ], { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr?.on('data', (d) => (log = (log + d).slice(-20_000)));
  const url = `http://127.0.0.1:${port}`;
  const stop = () => new Promise<void>((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
  try {
    await waitFor(async () => (await fetch(`${url}/-/ready`)).status === 200, 20_000, `alertmanager ready on ${url}\n${log}`);
  } catch (e) {
    await stop();
    throw e;
  }
  return { url, stop };
}
