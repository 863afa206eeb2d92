// Tests for the Pod Security Standards "restricted" checks: one compliant pod, then one test per rule
// with a spec that breaks only that rule.
import { podMetadataOf, podSpecOf, restrictedViolations } from './pss';

/** A container securityContext that meets restricted when the pod sets runAsNonRoot and seccomp. */
function containerSecurityContext(): any {
  return { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, readOnlyRootFilesystem: true };
}

/** A pod spec that meets restricted: pod-level runAsNonRoot/seccomp, containers dropping ALL. */
function compliant(): any {
  return {
    securityContext: { runAsNonRoot: true, runAsUser: 65534, fsGroup: 65534, seccompProfile: { type: 'RuntimeDefault' } },
    initContainers: [{ name: 'init', image: 'busybox:1.36', securityContext: containerSecurityContext() }],
    containers: [
      {
        name: 'app',
        image: 'app:1.0.0',
        ports: [{ name: 'http', containerPort: 8080 }],
        readinessProbe: { httpGet: { path: '/ready', port: 'http' } },
        securityContext: containerSecurityContext(),
      },
    ],
    volumes: [
      { name: 'config', configMap: { name: 'app' } },
      { name: 'data', persistentVolumeClaim: { claimName: 'data' } },
      { name: 'tmp', emptyDir: {} },
      { name: 'token', projected: { sources: [] } },
    ],
  };
}

/** compliant() changed by `mutate`. */
function breaking(mutate: (spec: any) => void): any {
  const spec = compliant();
  mutate(spec);
  return spec;
}

const app = (spec: any) => spec.containers[0];
const init = (spec: any) => spec.initContainers[0];

test('a compliant pod spec has no violations', () => {
  expect(restrictedViolations(compliant())).toEqual([]);
});

test('runAsNonRoot and seccomp may be set on every container instead of the pod', () => {
  const spec = breaking((s) => {
    s.securityContext = {};
    for (const c of [app(s), init(s)]) Object.assign(c.securityContext, { runAsNonRoot: true, seccompProfile: { type: 'Localhost', localhostProfile: 'p.json' } });
  });
  expect(restrictedViolations(spec)).toEqual([]);
});

describe('baseline rules', () => {
  test.each(['hostNetwork', 'hostPID', 'hostIPC'])('%s', (field) => {
    expect(restrictedViolations(breaking((s) => (s[field] = true)))).toEqual([`pod must not set ${field}=true [hostNamespaces]`]);
  });

  test('privileged container', () => {
    expect(restrictedViolations(breaking((s) => (app(s).securityContext.privileged = true)))).toEqual([
      'container "app" must not set securityContext.privileged=true [privileged]',
    ]);
  });

  test('hostPort', () => {
    expect(restrictedViolations(breaking((s) => (app(s).ports[0].hostPort = 8080)))).toEqual([
      'container "app" must not set ports[].hostPort=8080 [hostPorts]',
    ]);
    expect(restrictedViolations(breaking((s) => (app(s).ports[0].hostPort = 0)))).toEqual([]);
  });

  test('sysctls outside the safe set', () => {
    const spec = breaking((s) => (s.securityContext.sysctls = [{ name: 'net.ipv4.tcp_rmem', value: '4096 87380 6291456' }, { name: 'kernel.msgmax', value: '65536' }]));
    expect(restrictedViolations(spec)).toEqual(['pod must not set sysctl kernel.msgmax (not a safe sysctl) [sysctls]']);
  });

  test('procMount other than Default', () => {
    expect(restrictedViolations(breaking((s) => (app(s).securityContext.procMount = 'Default')))).toEqual([]);
    expect(restrictedViolations(breaking((s) => (app(s).securityContext.procMount = 'Unmasked')))).toEqual([
      'container "app" must not set securityContext.procMount=Unmasked [procMount]',
    ]);
  });

  test('seLinuxOptions: type outside the allowed list, any user or role', () => {
    expect(restrictedViolations(breaking((s) => (s.securityContext.seLinuxOptions = { type: 'container_t', level: 's0:c123,c456' })))).toEqual([]);
    expect(restrictedViolations(breaking((s) => (s.securityContext.seLinuxOptions = { type: 'spc_t' })))).toEqual([
      'pod must not set securityContext.seLinuxOptions.type=spc_t [seLinuxOptions]',
    ]);
    expect(restrictedViolations(breaking((s) => (init(s).securityContext.seLinuxOptions = { user: 'system_u', role: 'system_r' })))).toEqual([
      'init container "init" must not set securityContext.seLinuxOptions.user [seLinuxOptions]',
      'init container "init" must not set securityContext.seLinuxOptions.role [seLinuxOptions]',
    ]);
  });

  test('AppArmor: Unconfined profile field or annotation', () => {
    expect(restrictedViolations(breaking((s) => (app(s).securityContext.appArmorProfile = { type: 'RuntimeDefault' })))).toEqual([]);
    expect(restrictedViolations(breaking((s) => (app(s).securityContext.appArmorProfile = { type: 'Unconfined' })))).toEqual([
      'container "app" must not set securityContext.appArmorProfile.type=Unconfined [appArmorProfile]',
    ]);
    const annotations = { 'container.apparmor.security.beta.kubernetes.io/app': 'unconfined', 'other/annotation': 'x' };
    expect(restrictedViolations(compliant(), annotations)).toEqual([
      'pod must not set annotation container.apparmor.security.beta.kubernetes.io/app=unconfined (runtime/default or localhost/* only) [appArmorProfile]',
    ]);
    expect(restrictedViolations(compliant(), { 'container.apparmor.security.beta.kubernetes.io/app': 'localhost/my-profile' })).toEqual([]);
  });

  test('Windows hostProcess', () => {
    expect(restrictedViolations(breaking((s) => (s.securityContext.windowsOptions = { hostProcess: true })))).toEqual([
      'pod must not set securityContext.windowsOptions.hostProcess=true [windowsHostProcess]',
    ]);
  });

  test('probes and lifecycle handlers aimed at another host', () => {
    expect(restrictedViolations(breaking((s) => (app(s).readinessProbe.httpGet.host = '10.0.0.1')))).toEqual([
      'container "app" must not set readinessProbe.httpGet.host=10.0.0.1 [hostProbesAndHostLifecycle]',
    ]);
    expect(restrictedViolations(breaking((s) => (app(s).lifecycle = { preStop: { tcpSocket: { port: 80, host: 'example.com' } } })))).toEqual([
      'container "app" must not set lifecycle.preStop.tcpSocket.host=example.com [hostProbesAndHostLifecycle]',
    ]);
  });
});

describe('restricted rules', () => {
  test('hostPath volume (forbidden by baseline too: reported once)', () => {
    expect(restrictedViolations(breaking((s) => s.volumes.push({ name: 'logs', hostPath: { path: '/var/log' } })))).toEqual([
      'volume "logs" must not use volume type hostPath (allowed: configMap, csi, downwardAPI, emptyDir, ephemeral, image, persistentVolumeClaim, projected, secret) [restrictedVolumes]',
    ]);
  });

  test('other volume types outside the allowed list; image, csi and ephemeral are allowed', () => {
    expect(restrictedViolations(breaking((s) => s.volumes.push({ name: 'share', nfs: { server: 'nfs', path: '/' } })))).toEqual([
      'volume "share" must not use volume type nfs (allowed: configMap, csi, downwardAPI, emptyDir, ephemeral, image, persistentVolumeClaim, projected, secret) [restrictedVolumes]',
    ]);
    const allowed = breaking((s) =>
      s.volumes.push(
        { name: 'img', image: { reference: 'example/data:1' } },
        { name: 'csi', csi: { driver: 'x' } },
        { name: 'scratch', ephemeral: { volumeClaimTemplate: { spec: {} } } },
        { name: 'secret', secret: { secretName: 's' } },
        { name: 'downward', downwardAPI: { items: [] } },
      ),
    );
    expect(restrictedViolations(allowed)).toEqual([]);
  });

  test('capabilities: adding anything but NET_BIND_SERVICE', () => {
    expect(restrictedViolations(breaking((s) => (app(s).securityContext.capabilities.add = ['NET_BIND_SERVICE'])))).toEqual([]);
    expect(restrictedViolations(breaking((s) => (app(s).securityContext.capabilities.add = ['NET_BIND_SERVICE', 'SYS_ADMIN', 'CHOWN'])))).toEqual([
      'container "app" must not add capabilities SYS_ADMIN, CHOWN (only NET_BIND_SERVICE) [capabilities_restricted]',
    ]);
  });

  test('capabilities: drop must include ALL', () => {
    expect(restrictedViolations(breaking((s) => (app(s).securityContext.capabilities = { drop: ['NET_RAW'] })))).toEqual([
      'container "app" must set securityContext.capabilities.drop=["ALL"] [capabilities_restricted]',
    ]);
  });

  test('allowPrivilegeEscalation must be false on every container, init and ephemeral included', () => {
    expect(restrictedViolations(breaking((s) => delete init(s).securityContext.allowPrivilegeEscalation))).toEqual([
      'init container "init" must set securityContext.allowPrivilegeEscalation=false [allowPrivilegeEscalation]',
    ]);
    const debug = { name: 'debug', image: 'busybox:1.36', securityContext: { ...containerSecurityContext(), allowPrivilegeEscalation: true } };
    expect(restrictedViolations(breaking((s) => (s.ephemeralContainers = [debug])))).toEqual([
      'ephemeral container "debug" must set securityContext.allowPrivilegeEscalation=false [allowPrivilegeEscalation]',
    ]);
  });

  test('runAsNonRoot: unset on pod and container', () => {
    expect(restrictedViolations(breaking((s) => {
      delete s.securityContext.runAsNonRoot;
      init(s).securityContext.runAsNonRoot = true;
    }))).toEqual(['pod or container "app" must set securityContext.runAsNonRoot=true [runAsNonRoot]']);
  });

  test('runAsNonRoot: false on a container, even when the pod says true', () => {
    expect(restrictedViolations(breaking((s) => (app(s).securityContext.runAsNonRoot = false)))).toEqual([
      'container "app" must not set securityContext.runAsNonRoot=false [runAsNonRoot]',
    ]);
  });

  test('runAsNonRoot: false on the pod', () => {
    expect(restrictedViolations(breaking((s) => {
      s.securityContext.runAsNonRoot = false;
      for (const c of [app(s), init(s)]) c.securityContext.runAsNonRoot = true;
    }))).toEqual(['pod must not set securityContext.runAsNonRoot=false [runAsNonRoot]']);
  });

  test('runAsUser 0 at pod or container level', () => {
    expect(restrictedViolations(breaking((s) => (s.securityContext.runAsUser = 0)))).toEqual([
      'pod must not set securityContext.runAsUser=0 [runAsUser]',
    ]);
    expect(restrictedViolations(breaking((s) => (app(s).securityContext.runAsUser = 0)))).toEqual([
      'container "app" must not set securityContext.runAsUser=0 [runAsUser]',
    ]);
  });

  test('seccomp: neither the pod nor a container sets it', () => {
    expect(restrictedViolations(breaking((s) => {
      delete s.securityContext.seccompProfile;
      init(s).securityContext.seccompProfile = { type: 'RuntimeDefault' };
    }))).toEqual(['pod or container "app" must set securityContext.seccompProfile.type to RuntimeDefault or Localhost [seccompProfile_restricted]']);
  });

  test('seccomp: Unconfined on a container overrides a good pod setting, and is reported', () => {
    expect(restrictedViolations(breaking((s) => (app(s).securityContext.seccompProfile = { type: 'Unconfined' })))).toEqual([
      'container "app" must not set securityContext.seccompProfile.type=Unconfined (RuntimeDefault or Localhost only) [seccompProfile_restricted]',
    ]);
  });

  test('seccomp: Unconfined on the pod leaves containers without a valid profile', () => {
    expect(restrictedViolations(breaking((s) => (s.securityContext.seccompProfile = { type: 'Unconfined' })))).toEqual([
      'pod must not set securityContext.seccompProfile.type=Unconfined (RuntimeDefault or Localhost only) [seccompProfile_restricted]',
      'pod or init container "init" must set securityContext.seccompProfile.type to RuntimeDefault or Localhost [seccompProfile_restricted]',
      'pod or container "app" must set securityContext.seccompProfile.type to RuntimeDefault or Localhost [seccompProfile_restricted]',
    ]);
  });

  test('Windows pods are exempt from allowPrivilegeEscalation, capabilities and seccomp, not from the rest', () => {
    const windows = breaking((s) => {
      s.os = { name: 'windows' };
      delete s.securityContext.seccompProfile;
      app(s).securityContext = { runAsUser: 0 };
    });
    expect(restrictedViolations(windows)).toEqual(['container "app" must not set securityContext.runAsUser=0 [runAsUser]']);
  });

  test('several broken rules are all reported', () => {
    const spec = breaking((s) => {
      s.hostNetwork = true;
      app(s).securityContext = {};
    });
    expect(restrictedViolations(spec)).toEqual([
      'pod must not set hostNetwork=true [hostNamespaces]',
      'container "app" must set securityContext.capabilities.drop=["ALL"] [capabilities_restricted]',
      'container "app" must set securityContext.allowPrivilegeEscalation=false [allowPrivilegeEscalation]',
    ]);
  });
});

describe('podSpecOf / podMetadataOf', () => {
  const spec = { containers: [{ name: 'c' }] };
  const metadata = { annotations: { a: 'b' } };
  const template = { metadata, spec };

  test.each([
    ['Pod', { kind: 'Pod', metadata, spec }],
    ['Deployment', { kind: 'Deployment', spec: { template } }],
    ['StatefulSet', { kind: 'StatefulSet', spec: { template } }],
    ['DaemonSet', { kind: 'DaemonSet', spec: { template } }],
    ['ReplicaSet', { kind: 'ReplicaSet', spec: { template } }],
    ['Job', { kind: 'Job', spec: { template } }],
    ['CronJob', { kind: 'CronJob', spec: { jobTemplate: { spec: { template } } } }],
    ['PodTemplate', { kind: 'PodTemplate', template }],
  ])('%s', (_kind, obj) => {
    expect(podSpecOf(obj)).toBe(spec);
    expect(podMetadataOf(obj)).toBe(metadata);
  });

  test('other kinds have no pod spec', () => {
    expect(podSpecOf({ kind: 'Service', spec: { template } })).toBeUndefined();
    expect(podSpecOf(undefined)).toBeUndefined();
  });

  test('restrictedViolations refuses something that is not a pod spec', () => {
    expect(() => restrictedViolations(podSpecOf({ kind: 'Service' }))).toThrow('restrictedViolations: expected a pod spec object, got undefined');
  });
});
