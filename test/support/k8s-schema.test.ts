// Tests for the strict Kubernetes schema validation and the manifest loader.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { knownKinds, loadManifests, parseManifests, validateManifest, validateManifests, type KubeVersion } from './k8s-schema';

const VERSIONS: KubeVersion[] = ['1.27', '1.36'];

/** A minimal valid Deployment; `patch` edits a fresh copy. */
function deployment(patch: (d: any) => void = () => {}): any {
  const d: any = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'prometheus', namespace: 'monitoring', labels: { 'app.kubernetes.io/name': 'prometheus' } },
    spec: {
      replicas: 1,
      selector: { matchLabels: { 'app.kubernetes.io/name': 'prometheus' } },
      template: {
        metadata: { labels: { 'app.kubernetes.io/name': 'prometheus' } },
        spec: {
          containers: [
            {
              name: 'prometheus',
              image: 'prom/prometheus:v3.14.0',
              ports: [{ name: 'http', containerPort: 9090 }],
              resources: { requests: { cpu: '100m', memory: '256Mi' }, limits: { cpu: 1, memory: '1Gi' } },
              securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
              readinessProbe: { httpGet: { path: '/-/ready', port: 'http' } },
            },
          ],
        },
      },
    },
  };
  patch(d);
  return d;
}

function service(targetPort: number | string): any {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'prometheus' },
    spec: { selector: { app: 'prometheus' }, ports: [{ name: 'http', port: 9090, targetPort }] },
  };
}

describe.each(VERSIONS)('validateManifest against Kubernetes %s', (version) => {
  test('a valid minimal Deployment passes', () => {
    expect(validateManifest(deployment(), version)).toEqual([]);
  });

  test('an unknown field deep in the pod spec fails, naming the path and the field', () => {
    const bad = deployment((d) => (d.spec.template.spec.containers[0].securityContext.foo = true));
    expect(validateManifest(bad, version)).toEqual([
      'Deployment/prometheus: /spec/template/spec/containers/0/securityContext: unknown field "foo"',
    ]);
  });

  test('an unknown top-level field fails', () => {
    expect(validateManifest({ ...deployment(), extra: 1 }, version)).toEqual(['Deployment/prometheus: /: unknown field "extra"']);
  });

  test('a container without a name fails', () => {
    const bad = deployment((d) => delete d.spec.template.spec.containers[0].name);
    expect(validateManifest(bad, version)).toEqual([
      'Deployment/prometheus: /spec/template/spec/containers/0: missing required field "name"',
    ]);
  });

  test('a wrong type fails', () => {
    const bad = deployment((d) => (d.spec.replicas = '1'));
    expect(validateManifest(bad, version)).toEqual(['Deployment/prometheus: /spec/replicas: must be integer, got string "1"']);
  });

  test('null fails, with a hint to omit the field', () => {
    const bad = deployment((d) => (d.spec.template.spec.containers[0].env = null));
    expect(validateManifest(bad, version)).toEqual([
      'Deployment/prometheus: /spec/template/spec/containers/0/env: must be array, not null (omit the field instead)',
    ]);
  });

  test('an unknown kind fails', () => {
    const crd = { apiVersion: 'monitoring.coreos.com/v1', kind: 'ServiceMonitor', metadata: { name: 'app' } };
    expect(validateManifest(crd, version)).toEqual([
      `ServiceMonitor/app: unknown kind ServiceMonitor for apiVersion monitoring.coreos.com/v1 in Kubernetes ${version}`,
    ]);
    // The same kind under the wrong apiVersion is unknown too.
    expect(validateManifest({ ...deployment(), apiVersion: 'v1' }, version)).toEqual([
      `Deployment/prometheus: unknown kind Deployment for apiVersion v1 in Kubernetes ${version}`,
    ]);
  });

  test('a Service targetPort may be a port name or a number (IntOrString), not a fraction', () => {
    expect(validateManifest(service('http'), version)).toEqual([]);
    expect(validateManifest(service(8080), version)).toEqual([]);
    expect(validateManifest(service(80.5), version)).toEqual([
      'Service/prometheus: /spec/ports/0/targetPort: must be integer or string, got number 80.5',
    ]);
  });

  test('resources accept quantities as strings ("100m", "1Gi") or numbers, and reject a malformed one', () => {
    expect(validateManifest(deployment(), version)).toEqual([]); // cpu: '100m', cpu: 1, memory: '256Mi'
    const bad = deployment((d) => (d.spec.template.spec.containers[0].resources.limits.memory = '512MB'));
    expect(validateManifest(bad, version)).toEqual([
      'Deployment/prometheus: /spec/template/spec/containers/0/resources/limits/memory: must be a Kubernetes quantity such as "100m", "0.5" or "128Mi", got "512MB"',
    ]);
  });

  test('maps keep their value schema: labels must be strings, Secret data base64', () => {
    const badLabel = deployment((d) => (d.metadata.labels.enabled = true));
    expect(validateManifest(badLabel, version)).toEqual([
      'Deployment/prometheus: /metadata/labels/enabled: must be string, got boolean true',
    ]);
    const secret = (data: Record<string, string>) => ({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' }, data });
    expect(validateManifest(secret({ password: 'c2VjcmV0' }), version)).toEqual([]);
    expect(validateManifest(secret({ password: 'secret!' }), version)).toEqual([
      'Secret/s: /data/password: must be base64-encoded, got "secret!"',
    ]);
  });

  test('int32 ranges are enforced; value enums are not (the definitions carry none)', () => {
    const hugePort = deployment((d) => (d.spec.template.spec.containers[0].ports[0].containerPort = 2 ** 31));
    expect(validateManifest(hugePort, version)).toEqual([
      'Deployment/prometheus: /spec/template/spec/containers/0/ports/0/containerPort: must be a valid int32, got 2147483648',
    ]);
    // A known limit: the cdk8s definitions only have an enum for `kind`, so a bad restartPolicy passes here.
    const badPolicy = deployment((d) => (d.spec.template.spec.restartPolicy = 'Sometimes'));
    expect(validateManifest(badPolicy, version)).toEqual([]);
  });

  test('a non-object or an object without apiVersion/kind is reported, not thrown', () => {
    expect(validateManifest('text', version)).toEqual(['<no kind>/<unnamed>: a manifest must be an object with string apiVersion and kind']);
    expect(validateManifest({ kind: 'Service', metadata: { name: 'x' } }, version)).toEqual([
      'Service/x: a manifest must be an object with string apiVersion and kind',
    ]);
  });
});

test('the versions differ: a field added after 1.27 is unknown to 1.27', () => {
  // Pod-level resources (PodSpec.resources) appeared in 1.32.
  const podLevelResources = deployment((d) => (d.spec.template.spec.resources = { limits: { cpu: '1' } }));
  expect(validateManifest(podLevelResources, '1.36')).toEqual([]);
  expect(validateManifest(podLevelResources, '1.27')).toEqual(['Deployment/prometheus: /spec/template/spec: unknown field "resources"']);
});

test('validateManifests concatenates the errors of all objects; knownKinds lists core and group kinds', () => {
  const bad = deployment((d) => (d.spec.replicas = 'x'));
  expect(validateManifests([deployment(), bad, service('http')], '1.36')).toEqual([
    'Deployment/prometheus: /spec/replicas: must be integer, got string "x"',
  ]);
  expect(knownKinds('1.36')).toEqual(expect.arrayContaining(['v1/Service', 'apps/v1/Deployment', 'rbac.authorization.k8s.io/v1/ClusterRole']));
});

test('compiling is fast: every kind of 1.36 validates in a few seconds', () => {
  const start = Date.now();
  for (const gvk of knownKinds('1.36')) {
    const slash = gvk.lastIndexOf('/');
    validateManifest({ apiVersion: gvk.slice(0, slash), kind: gvk.slice(slash + 1), metadata: { name: 'x' } }, '1.36');
  }
  // Measured at about 0.5 s for all ~300 kinds; the bound only catches a pathological slowdown.
  expect(Date.now() - start).toBeLessThan(10_000);
});

describe('loadManifests / parseManifests', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'obs-manifests-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('reads every *.yaml in sorted file order, all documents, skipping empty ones and other files', () => {
    fs.writeFileSync(path.join(dir, 'b.yaml'), 'kind: B1\n---\nkind: B2\n---\n');
    fs.writeFileSync(path.join(dir, 'a.yaml'), '---\n# only a comment\n---\nkind: A\n');
    fs.writeFileSync(path.join(dir, 'c.yml'), 'kind: NotYaml\n');
    fs.writeFileSync(path.join(dir, 'README.md'), '# not a manifest\n');
    expect(loadManifests(dir)).toEqual([{ kind: 'A' }, { kind: 'B1' }, { kind: 'B2' }]);
  });

  test('reads YAML like kubectl (1.1): on/yes are booleans, 0644 is octal, dates stay strings', () => {
    const [obj] = parseManifests('a: on\nb: yes\nmode: 0644\nc: "on"\nd: 2024-01-02\ne: 1:20\n');
    expect(obj).toEqual({ a: true, b: true, mode: 420, c: 'on', d: '2024-01-02', e: '1:20' });
  });

  test('a YAML error names the file', () => {
    fs.writeFileSync(path.join(dir, 'broken.yaml'), 'a: [1, 2\n');
    expect(() => loadManifests(dir)).toThrow(path.join(dir, 'broken.yaml'));
  });
});
