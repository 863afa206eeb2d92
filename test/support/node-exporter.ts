// Test helpers around the REAL node-exporter 1.5 from Debian's `prometheus-node-exporter` package (scripts/test.mjs
// installs it with apt-get). The pinned image is 1.12.1; every flag the stack passes exists in both (1.5 knows
// --path.udev.data, --collector.filesystem.mount-points-exclude/fs-types-exclude, --collector.netdev.device-exclude,
// --collector.netclass.ignored-devices and each --no-collector.<name>). The one adaptation is where the host is:
// the container's /host/proc, /host/sys and /host/root become links in a temporary directory to this machine's
// /proc, /sys and /, and it listens on a loopback port.
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { NODE_EXPORTER_HOST_MOUNTS } from '../../lib/components/node-exporter';
import { tempDir } from '../helpers/temp-dir';
import { freePort, waitFor } from './prometheus';

export interface RunningNodeExporter {
  /** host:port it listens on. */
  readonly address: string;
  /** The arguments it ran with. */
  readonly args: readonly string[];
  stop(): Promise<void>;
}

/**
 * Runs prometheus-node-exporter with a rendering's arguments (as the container receives them), the host's
 * directories and the listen address swapped as said above, until / answers 200.
 */
export async function startNodeExporter(renderedArgs: readonly string[]): Promise<RunningNodeExporter> {
  const dir = tempDir('node-exporter-');
  for (const m of NODE_EXPORTER_HOST_MOUNTS) {
    fs.mkdirSync(path.dirname(path.join(dir, m.mountPath)), { recursive: true });
    fs.symlinkSync(m.hostPath, path.join(dir, m.mountPath));
  }
  const port = await freePort();
  const args = renderedArgs.map((a) => {
    if (a.startsWith('--web.listen-address=')) return `--web.listen-address=127.0.0.1:${port}`;
    const m = /^(--path\.[a-z.]+=)(\/host\/.*)$/.exec(a);
    return m ? `${m[1]}${dir}${m[2]}` : a;
  });
  if (!args.includes(`--web.listen-address=127.0.0.1:${port}`)) throw new Error(`no --web.listen-address among ${JSON.stringify(renderedArgs)}`);
  const child: ChildProcess = spawn('prometheus-node-exporter', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr?.on('data', (d) => (log = (log + d).slice(-20_000)));
  const address = `127.0.0.1:${port}`;
  const stop = () => new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
  try {
    await waitFor(async () => {
      if (child.exitCode !== null) throw new Error(`prometheus-node-exporter exited ${child.exitCode}:\n${log}`);
      return (await fetch(`http://${address}/`).catch(() => undefined))?.status === 200;
    }, 20_000, `node-exporter answering on ${address}\n${log}`);
  } catch (e) {
    await stop();
    throw e;
  }
  return { address, args, stop };
}
