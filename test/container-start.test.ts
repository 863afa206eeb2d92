// Every container of every rendering can start: proved from what its image holds (lib/image-facts.ts) with
// the user, capabilities, volumes, probes and healthchecks the rendering gives it (test/support/container-start.ts).
import { GRAFANA_ADMIN_PASSWORD_FILE, GRAFANA_PASSWORD_INIT_SCRIPT, parseStackConfig, renderCompose, StackInput } from '../lib';
import { CUSTOM_INPUT, EVERY_RECEIVER_INPUT, LOKI_BASIC_AUTH_INPUT, LOKI_RING_INPUT, synthObjects } from './helpers/stack';
import { LOKI_PASSWORD_FILE } from '../lib/components/loki';
import { scenarios, templateScenario } from './helm-support';
import { COMPOSE_SECRET_FILE, composeContainerRuns, ContainerRun, containerStartProblems, effectiveArgv, Inode, KnownScript, kubernetesContainerRuns, PvcModel, resolveNeeds } from './support/container-start';
import * as path from 'path';
import { parse } from 'yaml';
import { factsOfImage } from '../lib/images';

/** Shell scripts the stack runs, and the directories they write (the check refuses a script it does not know). */
const SCRIPTS = new Map<string, KnownScript>();

beforeAll(() => {
  // The init container writes the generated password next to Grafana's data, on its volume.
  SCRIPTS.set(GRAFANA_PASSWORD_INIT_SCRIPT, {
    writes: [path.posix.dirname(GRAFANA_ADMIN_PASSWORD_FILE)],
    creates: [{ path: GRAFANA_ADMIN_PASSWORD_FILE, mode: 0o400 }],
  });
});

/** How many containers (init containers included) the Kubernetes objects hold, counted apart from the adapter. */
function containerCount(objects: any[]): number {
  return objects.map((o) => (o.kind === 'Pod' ? o.spec : o.spec?.template?.spec)).filter(Boolean)
    .reduce((n, spec) => n + spec.containers.length + (spec.initContainers ?? []).length, 0);
}

/** The problems of every container whose image has facts, and the images of those that have none. */
function check(runs: ContainerRun[]): { problems: string[]; unknownImages: string[]; checked: number } {
  const known = runs.filter((r) => factsOfImage(r.image));
  // Containers in pod order (init containers first), each pod's created files shared among its containers.
  const createdByPod = new Map<string, Map<string, Inode>>();
  const created = (pod: string) => createdByPod.get(pod) ?? createdByPod.set(pod, new Map()).get(pod)!;
  return {
    problems: known.flatMap((r) => containerStartProblems(r, SCRIPTS, created(r.pod))),
    unknownImages: [...new Set(runs.filter((r) => !factsOfImage(r.image)).map((r) => r.image))].sort(),
    checked: known.length,
  };
}

const PVC_MODELS: PvcModel[] = ['kind', 'block'];

/** cdk8s variants: name, settings, and the images the stack runs without facts (a user's own app image). */
const CDK8S_VARIANTS: Array<[string, StackInput, string[]]> = [
  ['defaults', {}, []],
  ['log agent alloy', { logAgent: { kind: 'alloy' } }, []],
  ['customised', CUSTOM_INPUT, ['registry.example.com/shop:2.4.1']],
  ['Loki off', { loki: { enabled: false } }, []],
  ['Grafana off, app off', { grafana: { enabled: false }, app: { enabled: false } }, []],
  ['Alertmanager with every receiver', EVERY_RECEIVER_INPUT, []],
  ['Loki on a bucket, three pods', LOKI_RING_INPUT, []],
];

describe.each(PVC_MODELS)('every container can start (volumes as on %s)', (pvc) => {
  test.each(CDK8S_VARIANTS)('cdk8s: %s', (_name, input, unknown) => {
    const objects = synthObjects(input);
    const runs = kubernetesContainerRuns(objects, pvc);
    const result = check(runs);
    expect(result.problems).toEqual([]);
    expect(result.unknownImages).toEqual(unknown);
    // Every container was looked at: checked, or named above as of an unknown image.
    expect(runs).toHaveLength(containerCount(objects));
    expect(result.checked).toBe(runs.filter((r) => !unknown.includes(r.image)).length);
  });

  test.each(scenarios().map((s) => [s.file, s] as const))('Helm scenario %s (helm test pods included)', (_file, s) => {
    const objects = templateScenario(s);
    const runs = kubernetesContainerRuns(objects, pvc);
    const result = check(runs);
    expect(result.problems).toEqual([]);
    // Scenario 09 runs a user's own app image, of which nothing is known.
    expect(result.unknownImages).toEqual(s.values.app?.image?.repository ? [`${s.values.app.image.repository}:${s.values.app.image.tag}`] : []);
    expect(runs).toHaveLength(containerCount(objects));
    expect(runs.some((r) => r.where.startsWith('Pod '))).toBe(true);
  });
});

/**
 * Named volumes that earlier releases mounted elsewhere: a volume Docker filled (or gave the owner and mode
 * of an image directory) at its first mount keeps them when a later release mounts it at another path, and
 * the container of the new release must start with it all the same.
 */
const EARLIER_COMPOSE_VOLUMES: Record<string, { image: string; path: string }> = {
  // 0.1.0 mounted it over the image's /var/lib/alloy/data (473:473 0770).
  'alloy-data': { image: 'grafana/alloy:v1.18.1', path: '/var/lib/alloy/data' },
};

const COMPOSE_VARIANTS: Array<[string, StackInput]> = [
  ['log agent promtail', { logAgent: { kind: 'promtail' } }],
  ['log agent alloy', { logAgent: { kind: 'alloy' } }],
  ['customised', { ...CUSTOM_INPUT, app: { ...CUSTOM_INPUT.app, image: undefined } }],
  ['Loki and Grafana off', { loki: { enabled: false }, grafana: { enabled: false } }],
  ['Alertmanager with every receiver', EVERY_RECEIVER_INPUT],
  ['a Loki of the user\'s with basic auth, Promtail', LOKI_BASIC_AUTH_INPUT],
  ['a Loki of the user\'s with basic auth, Alloy', { ...LOKI_BASIC_AUTH_INPUT, logAgent: { kind: 'alloy' } }],
];

describe.each(COMPOSE_VARIANTS)('every compose service can start (%s)', (_name, input) => {
  const files = renderCompose(parseStackConfig(input));
  const text = files.get('docker-compose.yml')!;
  const runs = composeContainerRuns(text, files, { GF_ADMIN_PASSWORD: 'x' });

  test('no problems, and every service checked', () => {
    const result = check(runs);
    expect(result.problems).toEqual([]);
    expect(result.unknownImages).toEqual([]);
    expect(runs.map((r) => r.where).sort()).toEqual(Object.keys(parse(text).services).map((s) => `compose service ${s}`).sort());
  });

  test('and with the named volumes an earlier release left, as they were left', () => {
    const upgraded = runs.map((r) => ({
      ...r,
      mounts: r.mounts.map((m) => {
        const earlier = EARLIER_COMPOSE_VOLUMES[m.kind.replace(/^named volume /, '')];
        const dir = earlier && factsOfImage(earlier.image)?.directories.find((d) => d.path === earlier.path);
        return dir ? { ...m, root: { uid: dir.uid, gid: dir.gid, mode: dir.mode }, copiesImage: false } : m;
      }),
    }));
    expect(check(upgraded).problems).toEqual([]);
  });
});

test('the upgrade case sees what it guards against: Alloy on the earlier alloy-data volume cannot start', () => {
  const files = renderCompose(parseStackConfig({ logAgent: { kind: 'alloy' } }));
  const [alloy] = composeContainerRuns(files.get('docker-compose.yml')!, files, { GF_ADMIN_PASSWORD: 'x' }).filter((r) => r.where === 'compose service alloy');
  const reused = { ...alloy, mounts: alloy.mounts.map((m) => (m.kind.startsWith('named volume') ? { ...m, root: { uid: 473, gid: 473, mode: 0o770 }, copiesImage: false } : m)) };
  expect(check([reused]).problems).toEqual([
    'compose service alloy: cannot write /run/alloy (its storage path (remotecfg, seed, loki.source.file positions)): it is 473:473 0770 and uid 0 (groups 0) without CAP_DAC_OVERRIDE gets "other" permission ---',
  ]);
});

describe('a Loki of the user\'s password: the log agent and Grafana read the file their configs name', () => {
  const passwordReads = (run: ContainerRun) => {
    const facts = factsOfImage(run.image)!;
    const program = facts.programs.find((p) => p.executable === path.posix.basename(effectiveArgv(run, facts)[0])) ?? facts.programs[0];
    const readFile = (p: string) => run.mounts.find((m) => m.file && m.path === p)?.files?.get('')?.content
      ?? run.mounts.map((m) => (p.startsWith(`${m.path}/`) ? m.files?.get(p.slice(m.path.length + 1))?.content : undefined)).find((c) => c !== undefined);
    return resolveNeeds(program, effectiveArgv(run, facts), run.env, facts, readFile).reads.map((r) => r.path).filter((p) => p === LOKI_PASSWORD_FILE);
  };
  const byName = (runs: ContainerRun[], name: string) => runs.filter((r) => r.where.includes(name) && !r.where.includes('init'));

  test.each(['promtail', 'alloy'] as const)('on Kubernetes (%s): both name it, both can read it from the mounted Secret', (kind) => {
    const runs = kubernetesContainerRuns(synthObjects({ ...LOKI_BASIC_AUTH_INPUT, logAgent: { kind } }), 'kind');
    for (const run of [...byName(runs, kind), ...byName(runs, 'grafana')]) {
      expect({ where: run.where, reads: passwordReads(run) }).toEqual({ where: run.where, reads: [LOKI_PASSWORD_FILE] });
    }
    expect(check(runs).problems).toEqual([]);
  });

  test('on compose: both name it; a file readable by Grafana alone is a problem for the agent', () => {
    const files = renderCompose(parseStackConfig(LOKI_BASIC_AUTH_INPUT));
    const runs = composeContainerRuns(files.get('docker-compose.yml')!, files, { GF_ADMIN_PASSWORD: 'x' });
    for (const name of ['promtail', 'grafana']) expect(passwordReads(byName(runs, name)[0])).toEqual([LOKI_PASSWORD_FILE]);
    expect(check(runs).problems).toEqual([]);
    const ownerOnly = composeContainerRuns(files.get('docker-compose.yml')!, files, { GF_ADMIN_PASSWORD: 'x' }, (s) => (s === 'loki-password' ? { uid: 472, gid: 0, mode: 0o400 } : COMPOSE_SECRET_FILE));
    expect(check(ownerOnly).problems).toEqual([expect.stringContaining(`compose service promtail: cannot read ${LOKI_PASSWORD_FILE}`)]);
  });

  test('compose/README.md tells the person to make it so', () => {
    const readme = renderCompose(parseStackConfig(LOKI_BASIC_AUTH_INPUT)).get('README.md')!;
    expect(readme).toContain('chown 472:0 secrets/loki-password');
    expect(readme).toContain('chmod 0440 secrets/loki-password');
  });
});

describe('the receivers\' secrets: Alertmanager reads every file its configuration names', () => {
  const secretsDir = '/etc/alertmanager/secrets';
  const reads = (run: ContainerRun) => resolveNeeds(factsOfImage(run.image)!.programs[0], effectiveArgv(run, factsOfImage(run.image)!), run.env, factsOfImage(run.image)!,
    (p) => run.mounts.find((m) => m.file && m.path === p)?.files?.get('')?.content).reads.map((r) => r.path).filter((p) => p.startsWith(secretsDir));
  const expected = ['webhook-url', 'slack-api-url', 'smtp-password'].map((f) => `${secretsDir}/${f}`);

  test('on Kubernetes: the three files, from the projected Secrets, readable by the pod\'s group', () => {
    const [run] = kubernetesContainerRuns(synthObjects(EVERY_RECEIVER_INPUT), 'kind').filter((r) => r.where.includes('alertmanager'));
    expect(reads(run)).toEqual(expected);
    expect(check([run]).problems).toEqual([]);
  });

  test('on compose: the three files, and a file the person left unreadable to 65534 is a problem', () => {
    const files = renderCompose(parseStackConfig(EVERY_RECEIVER_INPUT));
    const [run] = composeContainerRuns(files.get('docker-compose.yml')!, files, { GF_ADMIN_PASSWORD: 'x' }).filter((r) => r.where === 'compose service alertmanager');
    expect(reads(run)).toEqual(expected);
    expect(check([run]).problems).toEqual([]);
    const [private_] = composeContainerRuns(files.get('docker-compose.yml')!, files, { GF_ADMIN_PASSWORD: 'x' }, { uid: 1000, gid: 1000, mode: 0o600 })
      .filter((r) => r.where === 'compose service alertmanager');
    expect(check([private_]).problems).toEqual(expected.map((f) => expect.stringContaining(`cannot read ${f}`)));
  });

  test('compose/README.md tells the person to make them so', () => {
    const readme = renderCompose(parseStackConfig(EVERY_RECEIVER_INPUT)).get('README.md')!;
    expect(readme).toContain('chown 65534');
    expect(readme).toContain('chmod 0400');
  });
});
