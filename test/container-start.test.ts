// Every container of every rendering can start: proved from what its image holds (lib/image-facts.ts) with
// the user, capabilities, volumes, probes and healthchecks the rendering gives it (test/support/container-start.ts).
import { GRAFANA_ADMIN_PASSWORD_FILE, GRAFANA_PASSWORD_INIT_SCRIPT, parseStackConfig, renderCompose, StackInput } from '../lib';
import { CUSTOM_INPUT, synthObjects } from './helpers/stack';
import { scenarios, templateScenario } from './helm-support';
import { composeContainerRuns, ContainerRun, containerStartProblems, Inode, KnownScript, kubernetesContainerRuns, PvcModel } from './support/container-start';
import * as path from 'path';
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
];

describe.each(PVC_MODELS)('every container can start (volumes as on %s)', (pvc) => {
  test.each(CDK8S_VARIANTS)('cdk8s: %s', (_name, input, unknown) => {
    const result = check(kubernetesContainerRuns(synthObjects(input), pvc));
    expect(result.problems).toEqual([]);
    expect(result.unknownImages).toEqual(unknown);
    expect(result.checked).toBeGreaterThan(0);
  });

  test.each(scenarios().map((s) => [s.file, s] as const))('Helm scenario %s (helm test pods included)', (_file, s) => {
    const result = check(kubernetesContainerRuns(templateScenario(s), pvc));
    expect(result.problems).toEqual([]);
    // Scenario 09 runs a user's own app image, of which nothing is known.
    expect(result.unknownImages).toEqual(s.values.app?.image?.repository ? [`${s.values.app.image.repository}:${s.values.app.image.tag}`] : []);
    expect(result.checked).toBeGreaterThan(0);
  });
});

describe.each([['promtail'], ['alloy']] as const)('every compose service can start (log agent %s)', (agent) => {
  const files = renderCompose(parseStackConfig({ logAgent: { kind: agent } }));
  const runs = composeContainerRuns(files.get('docker-compose.yml')!, files, { GF_ADMIN_PASSWORD: 'x' });

  test('no problems, and every service checked', () => {
    const result = check(runs);
    expect(result.problems).toEqual([]);
    expect(result.unknownImages).toEqual([]);
    expect(runs.map((r) => r.where)).toContain(`compose service ${agent}`);
  });
});
