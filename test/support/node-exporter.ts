// Test helpers around the REAL node-exporter 1.5 from Debian's `prometheus-node-exporter` package (scripts/test.mjs
// installs it with apt-get). The pinned image is 1.12.1; every flag the stack passes exists in both (1.5 knows
// --path.udev.data, --collector.filesystem.mount-points-exclude/fs-types-exclude, --collector.netdev.device-exclude,
// --collector.netclass.ignored-devices and each --no-collector.<name>). The one adaptation is where the host is:
// the container's /host/proc, /host/sys and /host/root become links in a temporary directory to this machine's
// /proc, /sys and /, and it listens on a loopback port (the rendering's host kept: `[$(HOST_IP)]` as `[127.0.0.1]`).
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

export interface NodeExporterOptions {
  /**
   * A /proc/net/dev to serve instead of this machine's (its interfaces are only lo and eth0): /host/proc is then
   * a directory of links to /proc's entries but `net`, whose `dev` is this text; with extraArgs
   * --no-collector.netdev.netlink, netdev reads it (1.12.1 asks netlink; both filter devices the same way).
   */
  readonly procNetDev?: string;
  /** Arguments added after the rendering's. */
  readonly extraArgs?: readonly string[];
}

/**
 * Runs prometheus-node-exporter with a rendering's arguments (as the container receives them), the host's
 * directories and the listen port swapped as said above (a `$(HOST_IP)` becomes 127.0.0.1, brackets kept),
 * until / answers 200.
 */
export async function startNodeExporter(renderedArgs: readonly string[], o: NodeExporterOptions = {}): Promise<RunningNodeExporter> {
  const dir = tempDir('node-exporter-');
  for (const m of NODE_EXPORTER_HOST_MOUNTS) {
    const at = path.join(dir, m.mountPath);
    fs.mkdirSync(path.dirname(at), { recursive: true });
    if (m.hostPath === '/proc' && o.procNetDev !== undefined) {
      fs.mkdirSync(path.join(at, 'net'), { recursive: true });
      for (const e of fs.readdirSync('/proc')) if (e !== 'net') fs.symlinkSync(path.join('/proc', e), path.join(at, e));
      for (const e of fs.readdirSync('/proc/net')) if (e !== 'dev') fs.symlinkSync(path.join('/proc/net', e), path.join(at, 'net', e));
      fs.writeFileSync(path.join(at, 'net', 'dev'), o.procNetDev);
    } else {
      fs.symlinkSync(m.hostPath, at);
    }
  }
  const port = await freePort();
  const args = [...renderedArgs.map((a) => {
    const listen = /^--web\.listen-address=(.*):\d+$/.exec(a);
    if (listen) return `--web.listen-address=${listen[1].replace('$(HOST_IP)', '127.0.0.1') || '127.0.0.1'}:${port}`;
    const m = /^(--path\.[a-z.]+=)(\/host\/.*)$/.exec(a);
    return m ? `${m[1]}${dir}${m[2]}` : a;
  }), ...(o.extraArgs ?? [])];
  if (!args.some((a) => a.startsWith('--web.listen-address=') && a.endsWith(`:${port}`))) throw new Error(`no --web.listen-address among ${JSON.stringify(renderedArgs)}`);
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
