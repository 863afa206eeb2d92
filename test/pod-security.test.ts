import { parseStackConfig } from '../lib';
import { CUSTOM_INPUT, synthObjects, workloads } from './helpers/stack';
import { NODE_EXPORTER_RELAXATIONS, podSpecOf, restrictedViolations } from './support/pss';

describe.each([['defaults', {}], ['customised', CUSTOM_INPUT]] as const)('Pod Security (%s)', (_name, input) => {
  const objects = synthObjects(input);
  const config = parseStackConfig(input);

  test('every namespace enforces restricted, except the log agent\'s, which is privileged', () => {
    const levels = Object.fromEntries(objects.filter((o) => o.kind === 'Namespace')
      .map((ns) => [ns.metadata.name, ns.metadata.labels['pod-security.kubernetes.io/enforce']]));
    const expected: Record<string, string> = { [config.namespace]: 'restricted', [config.app.namespace]: 'restricted', [config.logAgent.namespace]: 'privileged' };
    expect(levels).toEqual(expected);
  });

  test('every workload outside the log agent\'s namespace meets restricted', () => {
    const checked = workloads(objects).filter((w) => w.metadata.namespace !== config.logAgent.namespace);
    expect(checked.length).toBeGreaterThan(0);
    for (const w of checked) {
      expect({ workload: `${w.kind}/${w.metadata.name}`, violations: restrictedViolations(podSpecOf(w)) })
        .toEqual({ workload: `${w.kind}/${w.metadata.name}`, violations: [] });
    }
  });

  test('node-exporter relaxes exactly the host\'s network and processes and three hostPath volumes, all read-only, in the node agents\' namespace', () => {
    const w = workloads(objects).find((x) => x.metadata.name === 'node-exporter')!;
    expect(`${w.kind}/${w.metadata.namespace}`).toBe(`DaemonSet/${config.logAgent.namespace}`);
    expect(restrictedViolations(podSpecOf(w))).toEqual(NODE_EXPORTER_RELAXATIONS);
    const spec = podSpecOf(w);
    expect(spec.containers[0].volumeMounts.map((m: any) => [m.name, m.readOnly])).toEqual([['proc', true], ['sys', true], ['root', true]]);
    expect(spec.volumes.map((v: any) => [v.name, v.hostPath.path])).toEqual([['proc', '/proc'], ['sys', '/sys'], ['root', '/']]);
    expect([spec.securityContext.runAsUser, spec.securityContext.runAsNonRoot, spec.automountServiceAccountToken]).toEqual([65534, true, false]);
  });

  test('every container outside the log agent also has a read-only root filesystem', () => {
    for (const w of workloads(objects).filter((x) => x.metadata.namespace !== config.logAgent.namespace)) {
      const spec = podSpecOf(w);
      for (const c of [...spec.containers, ...(spec.initContainers ?? [])]) {
        expect({ container: `${w.metadata.name}/${c.name}`, readOnly: c.securityContext?.readOnlyRootFilesystem })
          .toEqual({ container: `${w.metadata.name}/${c.name}`, readOnly: true });
      }
    }
  });
});
