// Can this container start? A model of what a container's process may do inside the file system its image
// and its volumes give it, from the facts of lib/image-facts.ts (the image's user, directories, executables,
// and what the program writes and reads), checked the way the Linux kernel checks permissions:
//
// - credentials: the uid and gid the container runs as (securityContext / compose `user:`, else the image's
//   USER), the supplemental groups (fsGroup, supplementalGroups, group_add), and the capabilities left after
//   drop/add (only uid 0 keeps any; CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH are the ones that bypass modes);
// - a permission check uses the owner bits when the uid owns the inode, else the group bits when one of the
//   process's groups owns it, else the "other" bits (path_resolution(7)); uid 0 without CAP_DAC_OVERRIDE is no
//   exception, which is how an Alloy running as root with every capability dropped cannot enter a 0770
//   directory owned by 473:473;
// - reaching a path needs search (x) permission on every directory above it; creating one needs write and
//   search permission on its parent, and a file system that is not read-only;
// - what a volume looks like when the container starts (VOLUME_SEMANTICS below, each rule with its source).
//
// The result of a check is a list of problems, each a sentence naming the container, the path and the rule
// that stops it, e.g.
//   alloy: cannot reach /var/lib/alloy/data: /var/lib/alloy is 473:473 0770 and uid 0 (groups 0) without
//   CAP_DAC_OVERRIDE gets "other" permission ---, which has no search (x)
import * as path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { HOST_DIRECTORIES, ImageFacts, PathNeed, ProgramFacts } from '../../lib/image-facts';
import { factsOfImage } from '../../lib/images';

/** File attributes as the kernel sees them. */
export interface Inode {
  readonly uid: number;
  readonly gid: number;
  /** Permission bits, e.g. 0o755 (the sticky and set-id bits may be included; they are ignored here). */
  readonly mode: number;
}

/** A mount in the container, as the container sees it when the process starts. */
export interface Mount {
  /** Absolute path in the container. */
  readonly path: string;
  /** What kind of volume, for the messages. */
  readonly kind: string;
  readonly readOnly: boolean;
  /** The mounted directory's (or, with `file`, the mounted file's) owner and mode. */
  readonly root: Inode;
  /** The mount is one file (a subPath of a ConfigMap, a bind-mounted file). */
  readonly file?: boolean;
  /** Files in the mount (ConfigMap and Secret keys, a bind-mounted file's content): relative path → content and attributes. */
  readonly files?: ReadonlyMap<string, { readonly content: string; readonly inode: Inode }>;
  /** A host directory mounted here: its path on the host, for the layout below it (HOST_DIRECTORIES). */
  readonly hostPath?: string;
  /** A fresh compose named volume: it holds copies of the image's directories below its mount point. */
  readonly copiesImage?: boolean;
}

/** One container, from any rendering, in the terms the check needs. */
export interface ContainerRun {
  /** Names the container in messages: "DaemonSet monitoring-agent/alloy, container alloy". */
  readonly where: string;
  /** The pod (or compose service) it belongs to: init containers' files are there for the containers after them. */
  readonly pod: string;
  /** `repository:tag`. */
  readonly image: string;
  /** uid from the securityContext or `user:`; undefined: the image's USER. */
  readonly uid?: number;
  /** gid from the securityContext or `user:`; undefined: the image user's primary group. */
  readonly gid?: number;
  /** Supplemental groups: fsGroup, supplementalGroups, compose group_add. */
  readonly groups: readonly number[];
  /** Capabilities dropped ("ALL" or names) and added. */
  readonly capDrop: readonly string[];
  readonly capAdd: readonly string[];
  readonly readOnlyRootFilesystem: boolean;
  /** Kubernetes runAsNonRoot: the kubelet refuses uid 0, and a non-numeric image USER it cannot verify. */
  readonly runAsNonRoot: boolean;
  /** Kubernetes `command` / compose `entrypoint`: replaces the image's ENTRYPOINT (and drops its CMD). */
  readonly command?: readonly string[];
  /** Kubernetes `args` / compose `command`: replaces the image's CMD. */
  readonly args?: readonly string[];
  /** Environment set by the rendering (the image's own ENV comes from its facts). */
  readonly env: Readonly<Record<string, string>>;
  readonly mounts: readonly Mount[];
  /** Commands executed in the container besides the main one: exec probes, compose healthchecks. */
  readonly execs: ReadonlyArray<{ readonly what: string; readonly argv: readonly string[] }>;
  /** Named TCP ports the container declares (httpGet probes must name one of them). */
  readonly portNames: readonly string[];
  /** httpGet/tcpSocket probes' ports, as written. */
  readonly probePorts: ReadonlyArray<{ readonly what: string; readonly port: string | number }>;
}

/** Capabilities a container runtime grants uid 0 by default (moby oci/caps/defaults.go, containerd's the same). */
export const DEFAULT_CAPABILITIES = [
  'CHOWN', 'DAC_OVERRIDE', 'FSETID', 'FOWNER', 'MKNOD', 'NET_RAW', 'SETGID', 'SETUID', 'SETFCAP', 'SETPCAP',
  'NET_BIND_SERVICE', 'SYS_CHROOT', 'KILL', 'AUDIT_WRITE',
];

/** The process's credentials. */
export interface Credentials {
  readonly uid: number;
  readonly groups: readonly number[];
  /** Effective capabilities (empty for any uid but 0). */
  readonly caps: ReadonlySet<string>;
}

/** Shell words that are builtins of sh (busybox ash, dash) and bash, not executables to look up. */
const SHELL_BUILTINS = new Set([
  'exec', 'printf', 'echo', 'set', 'if', 'then', 'else', 'elif', 'fi', '[', 'test', 'exit', 'umask', 'cd', 'true',
  'false', 'export', 'read', 'return', 'for', 'do', 'done', 'while', 'case', 'esac', ':', 'local', 'shift', 'trap',
]);

/** The permission class the kernel uses for `cred` on `inode`, and whether it grants `want`. */
export function permits(cred: Credentials, inode: Inode, want: 'r' | 'w' | 'x', isDir: boolean): boolean {
  if (cred.caps.has('DAC_OVERRIDE')) {
    // Read and write always; execute of a file only when some x bit is set; search of a directory always.
    return want !== 'x' || isDir || (inode.mode & 0o111) !== 0;
  }
  if (cred.caps.has('DAC_READ_SEARCH') && (want === 'r' || (want === 'x' && isDir))) return true;
  const bits = cred.uid === inode.uid ? (inode.mode >> 6) & 7 : cred.groups.includes(inode.gid) ? (inode.mode >> 3) & 7 : inode.mode & 7;
  return (bits & { r: 4, w: 2, x: 1 }[want]) !== 0;
}

/** `rwx`-style text of the bits `cred` gets on `inode`, and which class they come from. */
function classOf(cred: Credentials, inode: Inode): string {
  const cls = cred.uid === inode.uid ? 'owner' : cred.groups.includes(inode.gid) ? 'group' : 'other';
  const bits = cls === 'owner' ? (inode.mode >> 6) & 7 : cls === 'group' ? (inode.mode >> 3) & 7 : inode.mode & 7;
  return `"${cls}" permission ${bits & 4 ? 'r' : '-'}${bits & 2 ? 'w' : '-'}${bits & 1 ? 'x' : '-'}`;
}

function octal(mode: number): string {
  return `0${(mode & 0o7777).toString(8).padStart(3, '0')}`;
}

function describe(inode: Inode): string {
  return `${inode.uid}:${inode.gid} ${octal(inode.mode)}`;
}

function who(cred: Credentials): string {
  const caps = ['DAC_OVERRIDE', 'DAC_READ_SEARCH'].filter((c) => cred.caps.has(c));
  return `uid ${cred.uid} (groups ${cred.groups.join(',')}) ${caps.length ? `with CAP_${caps.join(', CAP_')}` : 'without CAP_DAC_OVERRIDE'}`;
}

/** Ancestors of an absolute path, from "/" down to its parent: /a/b/c → [/, /a, /a/b]. */
export function ancestors(p: string): string[] {
  const out: string[] = [];
  let d = path.posix.dirname(p);
  while (true) {
    out.unshift(d);
    if (d === '/') break;
    d = path.posix.dirname(d);
  }
  return out;
}

function isUnder(p: string, dir: string): boolean {
  return p === dir || p.startsWith(dir === '/' ? '/' : `${dir}/`);
}

/** What a path is in the container: its inode (undefined: it does not exist), and whether its file system is read-only. */
interface Resolved {
  readonly inode?: Inode;
  readonly isDir: boolean;
  readonly readOnly: boolean;
  readonly mount?: Mount;
}

/** The container's file system: the image's layer under its mounts. */
export class ContainerFs {
  private readonly mounts: Mount[];

  constructor(
    private readonly facts: ImageFacts,
    mounts: readonly Mount[],
    private readonly readOnlyRoot: boolean,
    /** Files that containers started before this one (init containers) created on shared volumes. */
    private readonly created: ReadonlyMap<string, Inode> = new Map(),
  ) {
    // Longest path first, so the innermost mount wins.
    this.mounts = [...mounts].sort((a, b) => b.path.length - a.path.length);
  }

  /** The mount a path lies in, if any. */
  mountOf(p: string): Mount | undefined {
    return this.mounts.find((m) => isUnder(p, m.path));
  }

  resolve(p: string): Resolved {
    const m = this.mountOf(p);
    if (m) {
      if (p === m.path) return { inode: m.root, isDir: !m.file, readOnly: m.readOnly, mount: m };
      const rel = p.slice(m.path.length + 1);
      const file = m.files?.get(rel);
      if (file) return { inode: file.inode, isDir: false, readOnly: m.readOnly, mount: m };
      // Directories inside a ConfigMap or Secret volume that hold its keys (items with a path "a/b").
      if (m.files && [...m.files.keys()].some((k) => k.startsWith(`${rel}/`))) return { inode: m.root, isDir: true, readOnly: m.readOnly, mount: m };
      if (m.hostPath) {
        const host = hostLayout(path.posix.join(m.hostPath, rel));
        if (host) return { inode: host.inode, isDir: host.isDir, readOnly: m.readOnly, mount: m };
      }
      const copied = m.copiesImage ? this.facts.directories.find((d) => d.path === p) : undefined;
      if (copied) return { inode: copied, isDir: true, readOnly: m.readOnly, mount: m };
      const made = this.created.get(p);
      if (made) return { inode: made, isDir: false, readOnly: m.readOnly, mount: m };
      return { isDir: false, readOnly: m.readOnly, mount: m };
    }
    const dir = this.facts.directories.find((d) => d.path === p);
    if (dir) return { inode: dir, isDir: true, readOnly: this.readOnlyRoot };
    // Directories above a mount point or a listed directory exist: the image has them, or the runtime
    // creates them root:root 0755 (runc's mkdirall for mount points). So do the usual top-level directories.
    if (this.mounts.some((mt) => isUnder(mt.path, p) && mt.path !== p) || this.facts.directories.some((d) => isUnder(d.path, p))
      || ['/', '/tmp', '/etc', '/var', '/usr', '/run', '/bin'].includes(p)) {
      return { inode: { uid: 0, gid: 0, mode: p === '/tmp' ? 0o1777 : 0o755 }, isDir: true, readOnly: this.readOnlyRoot };
    }
    return { isDir: false, readOnly: this.readOnlyRoot };
  }
}

/** A path below a host directory the stack mounts (the kubelet's pod logs, Docker's container logs). */
function hostLayout(hostPathOfFile: string): { inode: Inode; isDir: boolean } | undefined {
  for (const h of HOST_DIRECTORIES) {
    if (!isUnder(hostPathOfFile, h.path)) continue;
    if (hostPathOfFile === h.path) return { inode: h.dir, isDir: true };
    const depth = hostPathOfFile.slice(h.path.length + 1).split('/').length;
    if (depth < h.fileDepth) return { inode: h.subdirs, isDir: true };
    if (depth === h.fileDepth) return { inode: h.files, isDir: false };
  }
  return undefined;
}

/** The effective argv: ENTRYPOINT and CMD as the rendering overrides them (Kubernetes and compose alike). */
export function effectiveArgv(run: Pick<ContainerRun, 'command' | 'args'>, facts: ImageFacts): string[] {
  const entrypoint = run.command ?? facts.entrypoint;
  const cmd = run.args ?? (run.command ? [] : facts.cmd);
  return [...entrypoint, ...cmd];
}

/** Looks an executable up as execve and a shell would: a path as it is, a bare name on PATH. */
export function findExecutable(name: string, facts: ImageFacts, env: Readonly<Record<string, string>>): string | undefined {
  if (name.includes('/')) return facts.executables.includes(path.posix.resolve(facts.workdir, name)) ? path.posix.resolve(facts.workdir, name) : undefined;
  const PATH = env.PATH ?? facts.env.PATH ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
  for (const dir of PATH.split(':')) {
    const candidate = path.posix.join(dir, name);
    if (facts.executables.includes(candidate)) return candidate;
  }
  return undefined;
}

/**
 * The external commands a shell script runs: the first word of each simple command (split at newlines, ;,
 * &&, ||, | and `$(`), leaving out builtins, variable assignments and redirections.
 */
export function scriptCommands(script: string): string[] {
  const words = new Set<string>();
  for (const piece of script.split(/\n|;|&&|\|\||\||\$\(/)) {
    // Grouping braces and parentheses are syntax, not commands.
    const tokens = piece.trim().split(/\s+/).filter((t) => t && !/^[{}()]+$/.test(t) && !/^[A-Za-z_][A-Za-z0-9_]*=/.test(t));
    const first = tokens[0]?.replace(/^[({]+/, '');
    if (!first || /^[0-9]*[<>]/.test(first) || SHELL_BUILTINS.has(first) || first.startsWith('#')) continue;
    words.add(first);
  }
  return [...words];
}

/** The value of a flag in argv: `-name=v`, `--name=v`, `-name v` or `--name v` (Go's flag and kingpin alike). */
export function flagValue(argv: readonly string[], flag: string): string | undefined {
  const bare = flag.replace(/^-+/, '');
  for (let i = 0; i < argv.length; i++) {
    const m = /^--?([^=]+)(?:=(.*))?$/.exec(argv[i]);
    if (!m || m[1] !== bare) continue;
    return m[2] ?? argv[i + 1];
  }
  return undefined;
}

/** The values at a dotted key of a parsed YAML document (`positions.filename`); `*` takes every item of a list. */
function keyValues(doc: unknown, key: string): unknown[] {
  let vs: any[] = [doc];
  for (const part of key.split('.')) {
    vs = vs.flatMap((v) => (part === '*' ? (Array.isArray(v) ? v : []) : v && typeof v === 'object' && v[part] !== undefined ? [v[part]] : []));
  }
  return vs;
}

/** What the program needs, resolved against this container: directories it writes, files it reads. */
export interface ResolvedNeeds {
  readonly writes: Array<{ path: string; why: string }>;
  readonly reads: Array<{ path: string; why: string }>;
  readonly problems: string[];
}

/** Resolves the program's declared needs (its facts) against the container's argv, environment and files. */
export function resolveNeeds(program: ProgramFacts, argv: readonly string[], env: Readonly<Record<string, string>>, facts: ImageFacts, readFile: (p: string) => string | undefined): ResolvedNeeds {
  const problems: string[] = [];
  const abs = (p: string) => path.posix.resolve(facts.workdir, p);
  const value = (need: PathNeed): string[] => {
    switch (need.from) {
      case 'path':
        return [need.path];
      case 'flag':
        return [abs(flagValue(argv, need.flag) ?? need.default)];
      case 'arg': {
        const v = argv[need.index];
        if (v === undefined) problems.push(`argument ${need.index} (${need.why}) is missing from ${JSON.stringify(argv)}`);
        return v === undefined ? [] : [abs(v)];
      }
      case 'env': {
        const v = env[need.name] ?? facts.env[need.name] ?? need.default;
        return v === undefined ? [] : [abs(v)];
      }
      case 'config': {
        const file = abs(flagValue(argv, need.fileFlag) ?? need.fileDefault);
        const text = readFile(file);
        if (text === undefined) {
          problems.push(`cannot find the config file ${file} to read ${need.keys.join(', ')} from`);
          return [];
        }
        const doc = parseYaml(text);
        const out: string[] = [];
        for (const key of need.keys) {
          const found = keyValues(doc, key);
          for (const v of found.length > 0 ? found : [need.default]) {
            if (typeof v === 'string') out.push(abs(need.dirOf ? path.posix.dirname(v) : v));
          }
        }
        return out;
      }
      case 'matches': {
        const file = need.filePath ?? abs(need.fileArg !== undefined ? (argv[need.fileArg] ?? '') : (flagValue(argv, need.fileFlag ?? '') ?? ''));
        const text = readFile(file);
        if (text === undefined) {
          problems.push(`cannot find the file ${file} to read what it names (${need.why})`);
          return [];
        }
        return [...text.matchAll(new RegExp(need.pattern, 'g'))].map((m) => abs(m[1]));
      }
      case 'globs': {
        const file = abs(need.fileArg !== undefined ? (argv[need.fileArg] ?? '') : (flagValue(argv, need.fileFlag ?? '') ?? ''));
        const text = readFile(file);
        if (text === undefined) {
          problems.push(`cannot find the config file ${file} to read its log file globs from`);
          return [];
        }
        // The absolute globs of log files in the config (`__path__` values and relabel replacements), each
        // as one example file: every wildcard segment replaced by a name.
        const globs = [...new Set([...text.matchAll(/\/[A-Za-z0-9_./*$-]*\*[A-Za-z0-9_./*$-]*\.log\b/g)].map((m) => m[0]))];
        if (globs.length === 0) problems.push(`found no log file glob in ${file}`);
        return globs.map((g) => g.split('/').map((seg) => (/[*$]/.test(seg) ? (seg.endsWith('.log') ? 'x.log' : 'x') : seg)).join('/'));
      }
    }
  };
  return {
    writes: program.writes.flatMap((w) => value(w).map((p) => ({ path: p, why: w.why }))),
    reads: program.reads.flatMap((r) => value(r).map((p) => ({ path: p, why: r.why }))),
    problems,
  };
}

/** A shell script the stack runs: the directories it writes, and the files it leaves for the containers after it. */
export interface KnownScript {
  readonly writes: readonly string[];
  readonly creates?: ReadonlyArray<{ readonly path: string; readonly mode: number }>;
}

/**
 * Checks one container; returns its problems (empty: it can start, as far as its image's facts tell).
 * `created` holds the files earlier containers of the same pod made; a known script's files are added to it.
 */
export function containerStartProblems(run: ContainerRun, scripts: ReadonlyMap<string, KnownScript> = new Map(), created: Map<string, Inode> = new Map()): string[] {
  const facts = factsOfImage(run.image);
  const say = (s: string) => `${run.where}: ${s}`;
  if (!facts) return [say(`no facts for image ${run.image} in lib/image-facts.ts`)];
  const problems: string[] = [];

  // Who the process is.
  if (run.runAsNonRoot && run.uid === undefined && !/^[0-9]+$/.test(facts.user.written)) {
    problems.push(say(`runAsNonRoot without runAsUser, and the image's USER is the name "${facts.user.written}": the kubelet cannot verify it and refuses to start the container (set runAsUser: ${facts.user.uid})`));
  }
  const uid = run.uid ?? facts.user.uid;
  // No group given: the uid's primary group in the image's /etc/passwd (known for the image's own user),
  // else 0, as containerd and Docker do.
  const gid = run.gid ?? (uid === facts.user.uid ? facts.user.gid : 0);
  if (run.runAsNonRoot && uid === 0) problems.push(say('runAsNonRoot with uid 0: the kubelet refuses to start it'));
  const dropped = run.capDrop.includes('ALL') ? new Set(DEFAULT_CAPABILITIES) : new Set(run.capDrop);
  const caps = new Set(uid === 0 ? [...DEFAULT_CAPABILITIES.filter((c) => !dropped.has(c)), ...run.capAdd] : []);
  const cred: Credentials = { uid, groups: [...new Set([gid, ...run.groups])], caps };

  const fs = new ContainerFs(facts, run.mounts, run.readOnlyRootFilesystem, created);
  const env = { ...facts.env, ...run.env };

  /** Why `p`'s ancestors cannot all be searched, or undefined. */
  const traverseProblem = (p: string): string | undefined => {
    for (const a of ancestors(p)) {
      const r = fs.resolve(a);
      if (!r.inode) return `${a} does not exist`;
      if (!permits(cred, r.inode, 'x', true)) return `${a} is ${describe(r.inode)} and ${who(cred)} gets ${classOf(cred, r.inode)}, which has no search (x)`;
    }
    return undefined;
  };

  // The main command and every exec'd command exist in the image.
  const argv = effectiveArgv(run, facts);
  const checkExec = (what: string, args: readonly string[]) => {
    if (args.length === 0) return problems.push(say(`${what}: no command`));
    if (!findExecutable(args[0], facts, env)) return problems.push(say(`${what}: ${args[0]} does not exist in ${run.image}`));
    const shell = path.posix.basename(args[0]);
    if ((shell === 'sh' || shell === 'bash') && args[1] === '-c') {
      const script = args[2] ?? '';
      if (script.includes('/dev/tcp/') && shell !== 'bash') problems.push(say(`${what}: /dev/tcp is a bash feature, not ${shell}'s`));
      for (const cmd of scriptCommands(script)) {
        if (!findExecutable(cmd, facts, env)) problems.push(say(`${what}: its script runs ${cmd}, which does not exist in ${run.image}`));
      }
    }
    return undefined;
  };
  checkExec('command', argv);
  for (const e of run.execs) checkExec(e.what, e.argv);
  for (const p of run.probePorts) {
    if (typeof p.port === 'string' && !run.portNames.includes(p.port)) problems.push(say(`${p.what}: port "${p.port}" is not a declared container port`));
  }

  // What the main program writes and reads (or, for a shell script we know, what the script writes).
  const readFile = (p: string): string | undefined => {
    const m = fs.mountOf(p);
    if (!m?.files) return undefined;
    return m.file ? m.files.get('')?.content : m.files.get(p.slice(m.path.length + 1))?.content;
  };
  const program = facts.programs.find((pr) => path.posix.basename(argv[0] ?? '') === pr.executable);
  let writes: Array<{ path: string; why: string }> = [];
  let reads: Array<{ path: string; why: string }> = [];
  if (program) {
    const needs = resolveNeeds(program, argv, env, facts, readFile);
    problems.push(...needs.problems.map(say));
    writes = needs.writes;
    reads = needs.reads;
  } else if ((argv[0] === 'sh' || argv[0] === 'bash') && argv[1] === '-c') {
    const known = scripts.get(argv[2] ?? '');
    if (!known) problems.push(say(`runs a shell script the check does not know: say what it writes (scripts table of test/container-start.test.ts)`));
    writes = (known?.writes ?? []).map((p) => ({ path: p, why: 'the script writes here' }));
    for (const f of known?.creates ?? []) created.set(f.path, { uid, gid, mode: f.mode });
  } else if (findExecutable(argv[0] ?? '', facts, env)) {
    problems.push(say(`runs ${argv[0]}, which is not a program lib/image-facts.ts describes for ${run.image}`));
  }

  for (const w of writes) {
    // The directory must exist or be creatable, and be writable.
    let target = w.path;
    while (!fs.resolve(target).inode && target !== '/') target = path.posix.dirname(target);
    const blocked = traverseProblem(target);
    if (blocked) {
      problems.push(say(`cannot reach ${w.path} (${w.why}): ${blocked}`));
      continue;
    }
    const r = fs.resolve(target);
    const creating = target !== w.path ? ` (to create ${w.path})` : '';
    if (r.readOnly) {
      problems.push(say(`cannot write ${target}${creating} (${w.why}): ${r.mount ? `the ${r.mount.kind} mounted at ${r.mount.path} is read-only` : 'the root file system is read-only and no volume is mounted there'}`));
    } else if (!r.isDir) {
      problems.push(say(`cannot write ${w.path} (${w.why}): ${target} is not a directory`));
    } else if (!permits(cred, r.inode!, 'w', true) || !permits(cred, r.inode!, 'x', true)) {
      problems.push(say(`cannot write ${target}${creating} (${w.why}): it is ${describe(r.inode!)} and ${who(cred)} gets ${classOf(cred, r.inode!)}`));
    }
  }
  for (const rd of reads) {
    const blocked = traverseProblem(rd.path);
    if (blocked) {
      problems.push(say(`cannot reach ${rd.path} (${rd.why}): ${blocked}`));
      continue;
    }
    const r = fs.resolve(rd.path);
    if (!r.inode) problems.push(say(`cannot read ${rd.path} (${rd.why}): it does not exist`));
    else if (!permits(cred, r.inode, 'r', r.isDir)) problems.push(say(`cannot read ${rd.path} (${rd.why}): it is ${describe(r.inode)} and ${who(cred)} gets ${classOf(cred, r.inode)}`));
  }
  return problems;
}

// ---------------------------------------------------------------------------------------------------
// From the renderings to ContainerRuns.

/**
 * How a PersistentVolumeClaim's volume looks when a pod first mounts it; a container must start on both:
 * - `kind`: kind's local-path provisioner makes a hostPath directory with mode 0777, and the kubelet applies
 *   no fsGroup to hostPath volumes (rancher/local-path-provisioner: the helper pod runs `mkdir -m 0777`);
 * - `block`: a fresh file system (ext4, xfs) whose root is root:root 0755; with fsGroup the kubelet makes
 *   it group-owned by fsGroup with group rwx and setgid (pkg/volume/volume_linux.go SetVolumeOwnership).
 */
export type PvcModel = 'kind' | 'block';

/** An emptyDir, or a volume with fsGroup ownership: root:root 0777, group fsGroup with setgid when set (pkg/volume/emptydir). */
function emptyDirInode(fsGroup: number | undefined): Inode {
  return fsGroup === undefined ? { uid: 0, gid: 0, mode: 0o777 } : { uid: 0, gid: fsGroup, mode: 0o2777 };
}

/** A hostPath directory: what the host has there (HOST_DIRECTORIES), else what `DirectoryOrCreate` makes: root:root 0755. */
function hostPathInode(p: string): Inode {
  const known = HOST_DIRECTORIES.find((h) => h.path === p);
  return known ? known.dir : { uid: 0, gid: 0, mode: 0o755 };
}

/** Pod spec and a name of every workload or bare pod among Kubernetes objects. */
function podsOf(objects: any[]): Array<{ name: string; spec: any }> {
  const out: Array<{ name: string; spec: any }> = [];
  for (const o of objects) {
    const spec = o.kind === 'Pod' ? o.spec : ['Deployment', 'StatefulSet', 'DaemonSet', 'Job', 'ReplicaSet'].includes(o.kind) ? o.spec?.template?.spec : undefined;
    if (spec) out.push({ name: `${o.kind} ${o.metadata.namespace}/${o.metadata.name}`, spec });
  }
  return out;
}

/** Every container (init containers included) of Kubernetes objects, as the kubelet would start it. */
export function kubernetesContainerRuns(objects: any[], pvc: PvcModel): ContainerRun[] {
  const configMaps = new Map<string, Record<string, string>>();
  for (const o of objects) if (o.kind === 'ConfigMap') configMaps.set(`${o.metadata.namespace}/${o.metadata.name}`, o.data ?? {});
  const runs: ContainerRun[] = [];
  for (const o of objects) {
    const pod = podsOf([o])[0];
    if (!pod) continue;
    const ns = o.metadata.namespace;
    const psc = pod.spec.securityContext ?? {};
    const fsGroup: number | undefined = psc.fsGroup;
    const volumes = new Map<string, any>((pod.spec.volumes ?? []).map((v: any) => [v.name, v]));
    // A StatefulSet's claim templates: each pod mounts its own claim (<template>-<set>-<ordinal>), a fresh volume like any claim.
    for (const t of o.kind === 'StatefulSet' ? (o.spec.volumeClaimTemplates ?? []) : []) {
      volumes.set(t.metadata.name, { name: t.metadata.name, persistentVolumeClaim: { claimName: `${t.metadata.name}-${o.metadata.name}-0` } });
    }
    for (const c of [...(pod.spec.initContainers ?? []), ...pod.spec.containers]) {
      const sc = { ...psc, ...(c.securityContext ?? {}) };
      const mounts: Mount[] = (c.volumeMounts ?? []).map((vm: any) => {
        const v = volumes.get(vm.name);
        if (!v) throw new Error(`${pod.name}: container ${c.name} mounts volume ${vm.name}, which the pod does not define`);
        const readOnly = vm.readOnly === true;
        if (v.configMap || v.secret) {
          const data: Record<string, string> = v.configMap ? (configMaps.get(`${ns}/${v.configMap.name}`) ?? {}) : {};
          const src = v.configMap ?? v.secret;
          const items: Array<{ key: string; path: string; mode?: number }> = src.items ?? Object.keys(data).map((k) => ({ key: k, path: k }));
          const mode = (item: { mode?: number }) => (item.mode ?? src.defaultMode ?? 0o644) | (fsGroup !== undefined ? 0o040 : 0);
          const inode = (item: { mode?: number }): Inode => ({ uid: 0, gid: fsGroup ?? 0, mode: mode(item) });
          const kind = v.configMap ? `ConfigMap ${v.configMap.name}` : `Secret ${v.secret.secretName}`;
          if (vm.subPath) {
            const item: { key: string; path: string; mode?: number } = items.find((i) => i.path === vm.subPath) ?? { key: vm.subPath, path: vm.subPath };
            return { path: vm.mountPath, kind, readOnly: true, file: true, root: inode(item), files: new Map([['', { content: data[item.key] ?? '', inode: inode(item) }]]) };
          }
          return {
            path: vm.mountPath, kind, readOnly: true, root: { uid: 0, gid: fsGroup ?? 0, mode: 0o755 },
            files: new Map(items.map((i) => [i.path, { content: data[i.key] ?? '', inode: inode(i) }])),
          };
        }
        if (v.projected) {
          // Each source's items as files; modes as for a Secret volume (item mode, else defaultMode, else 0644;
          // group-readable with an fsGroup). The content of a user's Secret is unknown here: empty.
          const items: Array<{ key: string; path: string; mode?: number; from: string }> = v.projected.sources.flatMap((src: any) => {
            const s = src.secret ?? src.configMap;
            if (!s?.items) throw new Error(`${pod.name}: projected volume ${vm.name} has a source the start check does not model`);
            const data: Record<string, string> = src.configMap ? (configMaps.get(`${ns}/${s.name}`) ?? {}) : {};
            return s.items.map((i: any) => ({ ...i, content: data[i.key] ?? '' }));
          });
          const inode = (item: { mode?: number }): Inode => ({ uid: 0, gid: fsGroup ?? 0, mode: (item.mode ?? v.projected.defaultMode ?? 0o644) | (fsGroup !== undefined ? 0o040 : 0) });
          return {
            path: vm.mountPath, kind: `projected volume ${vm.name}`, readOnly: true, root: { uid: 0, gid: fsGroup ?? 0, mode: 0o755 },
            files: new Map(items.map((i: any) => [i.path, { content: i.content, inode: inode(i) }])),
          };
        }
        if (v.emptyDir) return { path: vm.mountPath, kind: 'emptyDir', readOnly, root: emptyDirInode(fsGroup) };
        if (v.persistentVolumeClaim) {
          const root: Inode = pvc === 'kind' ? { uid: 0, gid: 0, mode: 0o777 } : fsGroup === undefined ? { uid: 0, gid: 0, mode: 0o755 } : { uid: 0, gid: fsGroup, mode: 0o2775 };
          return { path: vm.mountPath, kind: `PersistentVolumeClaim ${v.persistentVolumeClaim.claimName} (${pvc === 'kind' ? 'kind local-path' : 'block storage'})`, readOnly, root };
        }
        if (v.hostPath) return { path: vm.mountPath, kind: `hostPath ${v.hostPath.path}`, readOnly, root: hostPathInode(v.hostPath.path), hostPath: v.hostPath.path };
        throw new Error(`${pod.name}: volume ${vm.name} is of a type the start check does not model`);
      });
      const probes = ['readinessProbe', 'livenessProbe', 'startupProbe'].filter((k) => c[k]).map((k) => [k, c[k]] as const);
      runs.push({
        where: `${pod.name}, container ${c.name}`,
        pod: pod.name,
        image: c.image,
        uid: sc.runAsUser,
        gid: sc.runAsGroup,
        groups: [...(fsGroup !== undefined ? [fsGroup] : []), ...(psc.supplementalGroups ?? [])],
        capDrop: sc.capabilities?.drop ?? [],
        capAdd: sc.capabilities?.add ?? [],
        readOnlyRootFilesystem: sc.readOnlyRootFilesystem === true,
        runAsNonRoot: sc.runAsNonRoot === true,
        command: c.command,
        args: c.args,
        env: Object.fromEntries((c.env ?? []).filter((e: any) => e.value !== undefined).map((e: any) => [e.name, e.value])),
        mounts,
        execs: probes.filter(([, p]) => p.exec).map(([k, p]) => ({ what: k, argv: p.exec.command })),
        portNames: (c.ports ?? []).map((p: any) => p.name).filter(Boolean),
        probePorts: probes.flatMap(([k, p]) => [p.httpGet?.port, p.tcpSocket?.port].filter((x) => x !== undefined).map((port) => ({ what: k, port }))),
      });
    }
  }
  return runs;
}

/** The uid of the person who ran `npm run synth`: the owner of the bind-mounted config files (0644, directories 0755). */
const HOST_USER_UID = 1000;

/**
 * A receiver's secret file on compose as compose/README.md tells the person to make it: owned by the
 * container's user (Alertmanager's nobody, 65534), mode 0400.
 */
export const COMPOSE_SECRET_FILE: Inode = { uid: 65534, gid: HOST_USER_UID, mode: 0o400 };
/**
 * The password of a Loki of the user's (compose/secrets/loki-password) as compose/README.md tells the person to
 * make it: owned by Grafana's uid 472 and group 0, mode 0440, so Grafana reads it as its owner and the log agent
 * (uid 0, group 0, no capability) through the group.
 */
export const COMPOSE_LOKI_PASSWORD_FILE: Inode = { uid: 472, gid: 0, mode: 0o440 };
/** Each compose secret's file as the README says to make it. */
export function composeSecretInode(source: string): Inode {
  return source === 'loki-password' ? COMPOSE_LOKI_PASSWORD_FILE : COMPOSE_SECRET_FILE;
}

/**
 * Every service of a compose file, as `docker compose up` would start it. `files` are the generated files of
 * compose/ (relative path → content), `composeDir` absolute paths are resolved against: none (the relative
 * `./x` sources are looked up in `files`).
 */
export function composeContainerRuns(composeYaml: string, files: ReadonlyMap<string, string>, env: Readonly<Record<string, string>> = {}, secretFileInode: Inode | ((source: string) => Inode) = composeSecretInode): ContainerRun[] {
  const doc = parseYaml(composeYaml);
  const runs: ContainerRun[] = [];
  for (const [name, s] of Object.entries<any>(doc.services)) {
    const facts = factsOfImage(s.image);
    const [uid, gid] = s.user !== undefined ? String(s.user).split(':').map(Number) : [undefined, undefined];
    const mounts: Mount[] = [];
    for (const v of s.volumes ?? []) {
      const [rawSource, target, opts] = interpolate(String(v), env).split(':');
      const readOnly = (opts ?? '').split(',').includes('ro');
      if (rawSource.startsWith('./')) {
        const rel = rawSource.slice(2);
        const content = files.get(rel);
        const fileInode: Inode = { uid: HOST_USER_UID, gid: HOST_USER_UID, mode: 0o644 };
        if (content !== undefined) {
          mounts.push({ path: target, kind: `bind mount ${rawSource}`, readOnly, file: true, root: fileInode, files: new Map([['', { content, inode: fileInode }]]) });
        } else {
          const under = [...files.entries()].filter(([f]) => f.startsWith(`${rel}/`)).map(([f, c]) => [f.slice(rel.length + 1), { content: c, inode: fileInode }] as const);
          if (under.length === 0) throw new Error(`compose service ${name} mounts ${rawSource}, which synthesis does not write`);
          mounts.push({ path: target, kind: `bind mount ${rawSource}`, readOnly, root: { uid: HOST_USER_UID, gid: HOST_USER_UID, mode: 0o755 }, files: new Map(under) });
        }
      } else if (rawSource.startsWith('/')) {
        mounts.push({ path: target, kind: `bind mount ${rawSource}`, readOnly, root: hostPathInode(rawSource), hostPath: rawSource });
      } else {
        // A fresh named volume takes the owner and mode of the image's directory it is mounted over
        // (moby volume/mounts: copy-up); over a path the image lacks, the directory is root:root 0755.
        const dir = facts?.directories.find((d) => d.path === target);
        mounts.push({ path: target, kind: `named volume ${rawSource}`, readOnly, copiesImage: true, root: dir ? { uid: dir.uid, gid: dir.gid, mode: dir.mode } : { uid: 0, gid: 0, mode: 0o755 } });
      }
    }
    // Compose file secrets: read-only bind mounts of files the person writes (not generated), at their target.
    for (const sec of s.secrets ?? []) {
      const source = doc.secrets?.[sec.source]?.file;
      if (!source) throw new Error(`compose service ${name} uses secret ${sec.source}, which the file does not declare with a file`);
      const inode = typeof secretFileInode === 'function' ? secretFileInode(sec.source) : secretFileInode;
      mounts.push({ path: sec.target, kind: `secret ${sec.source} (${source})`, readOnly: true, file: true, root: inode, files: new Map([['', { content: '', inode }]]) });
    }
    for (const t of s.tmpfs ?? []) {
      // Docker's tmpfs mounts default to mode 1777 (tmpfs-mode).
      mounts.push({ path: String(t).split(':')[0], kind: 'tmpfs', readOnly: false, root: { uid: 0, gid: 0, mode: 0o1777 } });
    }
    const hc: string[] | undefined = s.healthcheck?.test;
    const execs = !hc ? [] : hc[0] === 'CMD' ? [{ what: 'healthcheck', argv: hc.slice(1) }] : hc[0] === 'CMD-SHELL' ? [{ what: 'healthcheck', argv: ['/bin/sh', '-c', hc[1]] }] : [];
    runs.push({
      where: `compose service ${name}`,
      pod: `compose service ${name}`,
      image: s.image,
      uid,
      gid,
      groups: (s.group_add ?? []).map(Number),
      capDrop: s.cap_drop ?? [],
      capAdd: s.cap_add ?? [],
      readOnlyRootFilesystem: s.read_only === true,
      runAsNonRoot: false,
      command: s.entrypoint,
      args: s.command,
      env: Object.fromEntries(Object.entries<any>(s.environment ?? {}).map(([k, v]) => [k, String(v)])),
      mounts,
      execs,
      portNames: [],
      probePorts: [],
    });
  }
  return runs;
}

/** `${VAR:-default}` and `${VAR}` as compose interpolates them (`:?` takes the variable or fails: here, the variable). */
export function interpolate(text: string, env: Readonly<Record<string, string>>): string {
  return text.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?::([-?])([^}]*))?\}/g, (_m, name: string, op?: string, rest?: string) => {
    const v = env[name];
    if (op === '-') return v ? v : (rest ?? '');
    if (v === undefined) throw new Error(`compose would refuse \${${name}}: not set`);
    return v;
  });
}
