// The start check's own tests: its permission rule against the real kernel, and each part of the model.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { IMAGES, imageString } from '../../lib';
import {
  ancestors, composeContainerRuns, ContainerRun, containerStartProblems, Credentials, effectiveArgv, flagValue, interpolate, permits, scriptCommands,
} from './container-start';
import { factsOfImage } from '../../lib/images';

const NO_CAPS = new Set<string>();

describe('permits: the kernel\'s rule, checked against the kernel', () => {
  // uid 0 with every capability dropped, as the log agents run; and an unprivileged uid.
  const cases: Array<[string, { uid: number; gid: number; mode: number }, Credentials]> = [
    ['root without caps, dir 473:473 0770', { uid: 473, gid: 473, mode: 0o770 }, { uid: 0, groups: [0], caps: NO_CAPS }],
    ['root without caps in group 473, dir 473:473 0770', { uid: 473, gid: 473, mode: 0o770 }, { uid: 0, groups: [0, 473], caps: NO_CAPS }],
    ['root without caps, dir 0:0 0755 (owner)', { uid: 0, gid: 0, mode: 0o755 }, { uid: 0, groups: [0], caps: NO_CAPS }],
    ['owner whose bits deny what the group grants', { uid: 1000, gid: 2000, mode: 0o070 }, { uid: 1000, groups: [2000], caps: NO_CAPS }],
    ['another uid, dir 10001:10001 0755', { uid: 10001, gid: 10001, mode: 0o755 }, { uid: 472, groups: [0], caps: NO_CAPS }],
    ['group member, dir 0:472 02775 (fsGroup)', { uid: 0, gid: 472, mode: 0o2775 }, { uid: 472, groups: [472], caps: NO_CAPS }],
    ['other, dir 0:0 0710', { uid: 0, gid: 0, mode: 0o710 }, { uid: 65534, groups: [65534], caps: NO_CAPS }],
  ];

  test.each(cases)('%s: search and create as the kernel decides', (_name, dir, cred) => {
    if (process.getuid?.() !== 0) throw new Error('this test switches uid with setpriv (util-linux): run npm test as root');
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'obs-perm-'));
    try {
      fs.chmodSync(root, 0o755);
      const d = path.join(root, 'd');
      fs.mkdirSync(d);
      // Reaching d/child needs search permission on d (a trailing "d/." would not: the kernel looks up no name).
      fs.mkdirSync(path.join(d, 'child'));
      fs.chownSync(d, dir.uid, dir.gid);
      fs.chmodSync(d, dir.mode);
      const as = (cmd: string[]) => spawnSync('setpriv', [
        `--reuid=${cred.uid}`, `--regid=${cred.groups[0]}`,
        ...(cred.groups.length > 1 ? [`--groups=${cred.groups.slice(1).join(',')}`] : ['--clear-groups']),
        '--inh-caps=-all', '--bounding-set=-all', '--', ...cmd,
      ]).status === 0;
      const kernel = { search: as(['stat', path.join(d, 'child')]), create: as(['mkdir', path.join(d, 'sub')]) };
      const model = {
        search: permits(cred, dir, 'x', true),
        create: permits(cred, dir, 'w', true) && permits(cred, dir, 'x', true),
      };
      expect(model).toEqual(kernel);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });

  test('CAP_DAC_OVERRIDE lets uid 0 in anywhere; CAP_DAC_READ_SEARCH only reads and searches', () => {
    const dir = { uid: 473, gid: 473, mode: 0o770 };
    expect(permits({ uid: 0, groups: [0], caps: new Set(['DAC_OVERRIDE']) }, dir, 'w', true)).toBe(true);
    expect(permits({ uid: 0, groups: [0], caps: new Set(['DAC_READ_SEARCH']) }, dir, 'x', true)).toBe(true);
    expect(permits({ uid: 0, groups: [0], caps: new Set(['DAC_READ_SEARCH']) }, dir, 'w', true)).toBe(false);
  });
});

describe('the model\'s parts', () => {
  test('ancestors from / down to the parent', () => {
    expect(ancestors('/var/lib/alloy/data')).toEqual(['/', '/var', '/var/lib', '/var/lib/alloy']);
    expect(ancestors('/tmp')).toEqual(['/']);
  });

  test('flags in both Go styles, and positional defaults', () => {
    expect(flagValue(['/bin/x', '--storage.path=/a'], '--storage.path')).toBe('/a');
    expect(flagValue(['/bin/x', '-config.file', '/b'], '-config.file')).toBe('/b');
    expect(flagValue(['/bin/x', '-config.file=/c'], '--config.file')).toBe('/c');
    expect(flagValue(['/bin/x'], '--storage.path')).toBeUndefined();
  });

  test('the external commands of a shell script, without builtins, braces or assignments', () => {
    expect(scriptCommands('set -eu\nf=/x\n[ -s "$f" ] || { echo no >&2; exit 1; }\np=$(head -c 3 /dev/urandom | base64 | tr -dc a-z)\nmv a b'))
      .toEqual(['head', 'base64', 'tr', 'mv']);
    expect(scriptCommands("exec 3<>/dev/tcp/127.0.0.1/1 && printf 'x' >&3 && head -n 1 <&3 | grep -q ' 200 '")).toEqual(['head', 'grep']);
  });

  test('ENTRYPOINT and CMD overridden as Kubernetes and compose do', () => {
    const facts = factsOfImage(imageString(IMAGES.alloy))!;
    expect(effectiveArgv({}, facts)).toEqual(['/bin/alloy', 'run', '/etc/alloy/config.alloy', '--storage.path=/var/lib/alloy/data']);
    expect(effectiveArgv({ args: ['run', 'x'] }, facts)).toEqual(['/bin/alloy', 'run', 'x']);
    expect(effectiveArgv({ command: ['bash'] }, facts)).toEqual(['bash']);
  });

  test('compose interpolation: defaults, and the variable when set', () => {
    expect(interpolate('${D:-/var/lib/docker/containers}:/x:ro', {})).toBe('/var/lib/docker/containers:/x:ro');
    expect(interpolate('${D:-/var/lib/docker/containers}:/x:ro', { D: '/home/u/.local/share/docker/containers' })).toBe('/home/u/.local/share/docker/containers:/x:ro');
  });
});

describe('containerStartProblems', () => {
  const alloy = (over: Partial<ContainerRun>): ContainerRun => ({
    where: 'alloy', pod: 'p', image: imageString(IMAGES.alloy), uid: 0, gid: 0, groups: [], capDrop: ['ALL'], capAdd: [],
    readOnlyRootFilesystem: true, runAsNonRoot: false, env: {}, execs: [], portNames: [], probePorts: [],
    args: ['run', '/etc/alloy/config.alloy', '--storage.path=/var/lib/alloy/data'],
    mounts: [
      { path: '/etc/alloy', kind: 'ConfigMap', readOnly: true, root: { uid: 0, gid: 0, mode: 0o755 }, files: new Map([['config.alloy', { content: 'x = "/var/log/pods/*/*/*.log"', inode: { uid: 0, gid: 0, mode: 0o644 } }]]) },
      { path: '/var/log/pods', kind: 'hostPath', readOnly: true, root: { uid: 0, gid: 0, mode: 0o755 }, hostPath: '/var/log/pods' },
      { path: '/var/lib/alloy/data', kind: 'hostPath /run/alloy', readOnly: false, root: { uid: 0, gid: 0, mode: 0o755 } },
    ],
    ...over,
  });

  test('finds the Alloy of the review: uid 0 without capabilities below /var/lib/alloy (473:473 0770)', () => {
    expect(containerStartProblems(alloy({}))).toEqual([
      'alloy: cannot reach /var/lib/alloy/data (its storage path (remotecfg, seed, loki.source.file positions)): /var/lib/alloy is 473:473 0770 and uid 0 (groups 0) without CAP_DAC_OVERRIDE gets "other" permission ---, which has no search (x)',
    ]);
    // Either fix clears it: the image's group, or a storage path outside the image's directory.
    expect(containerStartProblems(alloy({ groups: [473] }))).toEqual([]);
    const moved = alloy({ args: ['run', '/etc/alloy/config.alloy', '--storage.path=/run/alloy'] });
    expect(containerStartProblems({ ...moved, mounts: [...moved.mounts.slice(0, 2), { ...moved.mounts[2], path: '/run/alloy' }] })).toEqual([]);
  });

  test('a read-only root with no volume where the program writes', () => {
    const run = alloy({ mounts: alloy({}).mounts.slice(0, 2), groups: [473] });
    expect(containerStartProblems(run)).toEqual([
      'alloy: cannot write /var/lib/alloy/data (its storage path (remotecfg, seed, loki.source.file positions)): the root file system is read-only and no volume is mounted there',
    ]);
  });

  test('a log file the agent cannot read, and a healthcheck tool the image lacks', () => {
    const base = alloy({});
    const run = alloy({
      uid: 473, gid: 473, execs: [{ what: 'healthcheck', argv: ['wget', '-q', 'http://127.0.0.1:12345/-/ready'] }],
      mounts: [...base.mounts.slice(0, 2), { ...base.mounts[2], root: { uid: 473, gid: 473, mode: 0o700 } }],
    });
    expect(containerStartProblems(run)).toEqual([
      'alloy: healthcheck: wget does not exist in grafana/alloy:v1.18.1',
      'alloy: cannot read /var/log/pods/x/x/x.log (the log files it tails): it is 0:0 0640 and uid 473 (groups 473) without CAP_DAC_OVERRIDE gets "other" permission ---',
    ]);
  });

  test('runAsNonRoot with an image whose USER is a name, and no runAsUser', () => {
    const facts = factsOfImage(imageString(IMAGES.prometheus))!;
    const run: ContainerRun = {
      where: 'prometheus', pod: 'p', image: imageString(IMAGES.prometheus), groups: [], capDrop: ['ALL'], capAdd: [], readOnlyRootFilesystem: true,
      runAsNonRoot: true, env: {}, execs: [], portNames: [], probePorts: [],
      mounts: [
        { path: '/etc/prometheus', kind: 'ConfigMap', readOnly: true, root: { uid: 0, gid: 0, mode: 0o755 }, files: new Map([['prometheus.yml', { content: '', inode: { uid: 0, gid: 0, mode: 0o644 } }]]) },
        { path: '/prometheus', kind: 'emptyDir', readOnly: false, root: { uid: 0, gid: 0, mode: 0o777 } },
      ],
    };
    expect(facts.user.written).toBe('nobody');
    expect(containerStartProblems(run)).toEqual([
      'prometheus: runAsNonRoot without runAsUser, and the image\'s USER is the name "nobody": the kubelet cannot verify it and refuses to start the container (set runAsUser: 65534)',
    ]);
    expect(containerStartProblems({ ...run, uid: 65534, gid: 65534 })).toEqual([]);
  });

  test('a compose named volume copies the image directory it is mounted over (owner, mode, and what is below)', () => {
    const compose = [
      'services:',
      '  loki:',
      '    image: grafana/loki:3.7.6',
      '    command: [-config.file=/etc/loki/loki.yaml]',
      '    read_only: true',
      '    cap_drop: [ALL]',
      '    volumes: ["./loki.yaml:/etc/loki/loki.yaml:ro", "data:/loki"]',
      '    tmpfs: ["/tmp"]',
    ].join('\n');
    const config = 'common:\n  path_prefix: /loki\n  storage:\n    filesystem:\n      chunks_directory: /loki/chunks\n      rules_directory: /loki/rules\ncompactor:\n  working_directory: /loki/compactor\n';
    const [run] = composeContainerRuns(compose, new Map([['loki.yaml', config]]));
    expect(run.mounts.find((m) => m.path === '/loki')?.root).toEqual({ uid: 10001, gid: 10001, mode: 0o755 });
    expect(containerStartProblems(run)).toEqual([]);
    // As another user, the copied 10001-owned directory is not writable.
    expect(containerStartProblems({ ...run, uid: 472, gid: 472 })).toContain(
      'compose service loki: cannot write /loki (to create /loki/chunks) (WAL, index, chunks, rules and the compactor\'s work): it is 10001:10001 0755 and uid 472 (groups 472) without CAP_DAC_OVERRIDE gets "other" permission r-x',
    );
  });
});
