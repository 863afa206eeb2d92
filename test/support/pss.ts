// Pod Security Standards "restricted" (which includes "baseline"), checked on a pod spec the way the
// PodSecurity admission controller does: kubernetes/pod-security-admission policy/check_*.go, as of
// Kubernetes 1.36 (see ../shared/reference/config-facts.md §8).
//
// Each violation is one sentence naming the pod, container or volume, what it must (not) set, and, in
// brackets, the admission check's ID, e.g.
//   container "app" must set securityContext.allowPrivilegeEscalation=false [allowPrivilegeEscalation]
//
// Like the admission controller:
// - every check covers containers, initContainers and ephemeralContainers;
// - where a restricted check supersedes a baseline one (capabilities, seccomp, volume types vs hostPath),
//   only the restricted one runs, so one mistake gives one violation;
// - pods with spec.os.name "windows" are exempt from the Linux-only restricted checks
//   (allowPrivilegeEscalation, capabilities, seccomp).
// Unlike it, the relaxations for pods in a user namespace (hostUsers: false) are NOT applied: they depend
// on a feature gate and our workloads do not use user namespaces, so we hold every pod to the full rules.

/** Inline volume types restricted allows. */
const ALLOWED_VOLUME_TYPES = [
  'configMap',
  'csi',
  'downwardAPI',
  'emptyDir',
  'ephemeral',
  'image', // allowed since Kubernetes 1.33
  'persistentVolumeClaim',
  'projected',
  'secret',
];

/** Sysctls considered safe (namespaced and isolated), by the Kubernetes version that allowed them. */
const SAFE_SYSCTLS = [
  'kernel.shm_rmid_forced',
  'net.ipv4.ip_local_port_range',
  'net.ipv4.tcp_syncookies',
  'net.ipv4.ping_group_range',
  'net.ipv4.ip_unprivileged_port_start',
  'net.ipv4.ip_local_reserved_ports', // 1.27
  'net.ipv4.tcp_keepalive_time', // 1.29
  'net.ipv4.tcp_fin_timeout', // 1.29
  'net.ipv4.tcp_keepalive_intvl', // 1.29
  'net.ipv4.tcp_keepalive_probes', // 1.29
  'net.ipv4.tcp_rmem', // 1.32
  'net.ipv4.tcp_wmem', // 1.32
];

/** SELinux types a pod or container may ask for ('' = unset). */
const ALLOWED_SELINUX_TYPES = ['', 'container_t', 'container_init_t', 'container_kvm_t', 'container_engine_t' /* 1.31 */];

/** The only capability restricted lets a container add. */
const ADDABLE_CAPABILITIES = ['NET_BIND_SERVICE'];

const ALLOWED_SECCOMP_TYPES = ['RuntimeDefault', 'Localhost'];
const ALLOWED_APPARMOR_TYPES = ['RuntimeDefault', 'Localhost'];
const APPARMOR_ANNOTATION_PREFIX = 'container.apparmor.security.beta.kubernetes.io/';

const PROBES = ['livenessProbe', 'readinessProbe', 'startupProbe'];
const LIFECYCLE_HANDLERS = ['postStart', 'preStop'];

/**
 * The pod spec inside a workload: Pod, Deployment, StatefulSet, DaemonSet, ReplicaSet, ReplicationController,
 * Job, CronJob, PodTemplate. undefined for any other kind.
 */
export function podSpecOf(obj: any): any | undefined {
  return podTemplateOf(obj)?.spec;
}

/** The pod's metadata (for its AppArmor annotations) inside the same kinds as podSpecOf(). */
export function podMetadataOf(obj: any): any | undefined {
  return podTemplateOf(obj)?.metadata;
}

function podTemplateOf(obj: any): { metadata?: any; spec?: any } | undefined {
  switch (obj?.kind) {
    case 'Pod':
      return obj;
    case 'Deployment':
    case 'StatefulSet':
    case 'DaemonSet':
    case 'ReplicaSet':
    case 'ReplicationController':
    case 'Job':
      return obj.spec?.template;
    case 'CronJob':
      return obj.spec?.jobTemplate?.spec?.template;
    case 'PodTemplate':
      return obj.template;
    default:
      return undefined;
  }
}

/**
 * Every way `podSpec` breaks Pod Security Standards "restricted" (baseline included), as readable
 * sentences; empty when it complies. `podAnnotations` (the pod template's metadata.annotations) are only
 * needed for the AppArmor annotation rule.
 */
export function restrictedViolations(podSpec: any, podAnnotations: Record<string, string> = {}): string[] {
  if (podSpec === null || typeof podSpec !== 'object' || Array.isArray(podSpec)) {
    throw new TypeError(`restrictedViolations: expected a pod spec object, got ${JSON.stringify(podSpec)}`);
  }
  const pod = new PodView(podSpec);
  const checks = [
    // baseline
    hostNamespaces,
    privileged,
    hostPorts,
    sysctls,
    procMount,
    seLinuxOptions,
    appArmorProfile,
    windowsHostProcess,
    hostProbesAndHostLifecycle,
    // restricted (restrictedVolumes, capabilities and seccomp supersede their baseline versions)
    restrictedVolumes,
    capabilities,
    seccompProfile,
    allowPrivilegeEscalation,
    runAsNonRoot,
    runAsUser,
  ];
  return checks.flatMap((check) => check(pod, podAnnotations));
}

// ---------------------------------------------------------------------------------------------------------

interface ContainerView {
  /** How violations name it: container "app", init container "setup", ephemeral container "debug". */
  readonly label: string;
  readonly spec: any;
  /** Its securityContext, or {} */
  readonly sc: any;
}

/** The parts of a pod spec the checks read, with missing pieces as empty objects/lists. */
class PodView {
  readonly sc: any;
  readonly containers: ContainerView[];
  readonly isWindows: boolean;

  constructor(readonly spec: any) {
    this.sc = spec.securityContext ?? {};
    this.isWindows = spec.os?.name === 'windows';
    // The admission controller's order: init containers, containers, ephemeral containers.
    const lists: Array<[string, any[] | undefined]> = [
      ['init container', spec.initContainers],
      ['container', spec.containers],
      ['ephemeral container', spec.ephemeralContainers],
    ];
    this.containers = lists.flatMap(([kind, list]) =>
      (list ?? []).map((c: any) => ({ label: `${kind} ${JSON.stringify(c?.name)}`, spec: c ?? {}, sc: c?.securityContext ?? {} })),
    );
  }

  /** [who, securityContext] for the pod and then each container: for rules that apply at both levels. */
  securityContexts(): Array<[string, any]> {
    return [['pod', this.sc], ...this.containers.map((c): [string, any] => [c.label, c.sc])];
  }
}

type Check = (pod: PodView, podAnnotations: Record<string, string>) => string[];

/** baseline: no host network, PID or IPC namespace. */
const hostNamespaces: Check = (pod) =>
  ['hostNetwork', 'hostPID', 'hostIPC'].filter((field) => pod.spec[field] === true).map((field) => `pod must not set ${field}=true [hostNamespaces]`);

/** baseline: no privileged containers. */
const privileged: Check = (pod) =>
  pod.containers.filter((c) => c.sc.privileged === true).map((c) => `${c.label} must not set securityContext.privileged=true [privileged]`);

/** baseline: no host ports (0 or unset only). */
const hostPorts: Check = (pod) =>
  pod.containers.flatMap((c) =>
    ((c.spec.ports ?? []) as any[])
      .filter((port) => port?.hostPort !== undefined && port.hostPort !== 0)
      .map((port) => `${c.label} must not set ports[].hostPort=${port.hostPort} [hostPorts]`),
  );

/** baseline: only the safe sysctls. */
const sysctls: Check = (pod) =>
  ((pod.sc.sysctls ?? []) as any[])
    .filter((s) => !SAFE_SYSCTLS.includes(s?.name))
    .map((s) => `pod must not set sysctl ${s?.name} (not a safe sysctl) [sysctls]`);

/** baseline (and restricted, unconditionally): procMount Default or unset. */
const procMount: Check = (pod) =>
  pod.containers
    .filter((c) => c.sc.procMount !== undefined && c.sc.procMount !== 'Default')
    .map((c) => `${c.label} must not set securityContext.procMount=${c.sc.procMount} [procMount]`);

/** baseline: SELinux type from the allowed list, no user, no role; pod and containers. */
const seLinuxOptions: Check = (pod) => {
  const holders = pod.securityContexts();
  return holders.flatMap(([who, sc]) => {
    const options = sc.seLinuxOptions;
    if (!options) return [];
    const found: string[] = [];
    if (!ALLOWED_SELINUX_TYPES.includes(options.type ?? '')) {
      found.push(`${who} must not set securityContext.seLinuxOptions.type=${options.type} [seLinuxOptions]`);
    }
    for (const field of ['user', 'role']) {
      if (options[field]) found.push(`${who} must not set securityContext.seLinuxOptions.${field} [seLinuxOptions]`);
    }
    return found;
  });
};

/** baseline: AppArmor profile RuntimeDefault or Localhost if set (fields and the older per-container annotations). */
const appArmorProfile: Check = (pod, podAnnotations) => {
  const holders = pod.securityContexts();
  const fromFields = holders
    .filter(([, sc]) => sc.appArmorProfile?.type !== undefined && !ALLOWED_APPARMOR_TYPES.includes(sc.appArmorProfile.type))
    .map(([who, sc]) => `${who} must not set securityContext.appArmorProfile.type=${sc.appArmorProfile.type} [appArmorProfile]`);
  const fromAnnotations = Object.entries(podAnnotations)
    .filter(([key, value]) => key.startsWith(APPARMOR_ANNOTATION_PREFIX) && value !== 'runtime/default' && !String(value).startsWith('localhost/'))
    .map(([key, value]) => `pod must not set annotation ${key}=${value} (runtime/default or localhost/* only) [appArmorProfile]`);
  return [...fromFields, ...fromAnnotations];
};

/** baseline: no Windows HostProcess pods or containers. */
const windowsHostProcess: Check = (pod) => {
  const holders = pod.securityContexts();
  return holders
    .filter(([, sc]) => sc.windowsOptions?.hostProcess === true)
    .map(([who]) => `${who} must not set securityContext.windowsOptions.hostProcess=true [windowsHostProcess]`);
};

/** baseline (1.34+): probes and lifecycle handlers must not target another host. */
const hostProbesAndHostLifecycle: Check = (pod) =>
  pod.containers.flatMap((c) => {
    const handlers: Array<[string, any]> = [
      ...PROBES.map((p): [string, any] => [p, c.spec[p]]),
      ...LIFECYCLE_HANDLERS.map((h): [string, any] => [`lifecycle.${h}`, c.spec.lifecycle?.[h]]),
    ];
    return handlers.flatMap(([where, handler]) =>
      ['httpGet', 'tcpSocket']
        .filter((action) => handler?.[action]?.host)
        .map((action) => `${c.label} must not set ${where}.${action}.host=${handler[action].host} [hostProbesAndHostLifecycle]`),
    );
  });

/** restricted: only the inline volume types in ALLOWED_VOLUME_TYPES (so no hostPath, which baseline forbids too). */
const restrictedVolumes: Check = (pod) =>
  ((pod.spec.volumes ?? []) as any[]).flatMap((volume) => {
    const type = Object.keys(volume ?? {}).find((key) => key !== 'name') ?? 'unknown';
    if (ALLOWED_VOLUME_TYPES.includes(type)) return [];
    return [`volume ${JSON.stringify(volume?.name)} must not use volume type ${type} (allowed: ${ALLOWED_VOLUME_TYPES.join(', ')}) [restrictedVolumes]`];
  });

/** restricted: drop ALL; add nothing but NET_BIND_SERVICE. Windows pods are exempt. */
const capabilities: Check = (pod) => {
  if (pod.isWindows) return [];
  return pod.containers.flatMap((c) => {
    const found: string[] = [];
    const added = ((c.sc.capabilities?.add ?? []) as string[]).filter((cap) => !ADDABLE_CAPABILITIES.includes(cap));
    if (added.length > 0) {
      found.push(`${c.label} must not add capabilities ${added.join(', ')} (only NET_BIND_SERVICE) [capabilities_restricted]`);
    }
    if (!((c.sc.capabilities?.drop ?? []) as string[]).includes('ALL')) {
      found.push(`${c.label} must set securityContext.capabilities.drop=["ALL"] [capabilities_restricted]`);
    }
    return found;
  });
};

/** restricted: seccomp RuntimeDefault or Localhost, at pod level or on every container; never anything else. */
const seccompProfile: Check = (pod) => {
  if (pod.isWindows) return [];
  const found: string[] = [];
  const podType = pod.sc.seccompProfile?.type;
  if (podType !== undefined && !ALLOWED_SECCOMP_TYPES.includes(podType)) {
    found.push(`pod must not set securityContext.seccompProfile.type=${podType} (RuntimeDefault or Localhost only) [seccompProfile_restricted]`);
  }
  const podValid = podType !== undefined && ALLOWED_SECCOMP_TYPES.includes(podType);
  for (const c of pod.containers) {
    const type = c.sc.seccompProfile?.type;
    if (type !== undefined && !ALLOWED_SECCOMP_TYPES.includes(type)) {
      found.push(`${c.label} must not set securityContext.seccompProfile.type=${type} (RuntimeDefault or Localhost only) [seccompProfile_restricted]`);
    } else if (type === undefined && !podValid) {
      found.push(`pod or ${c.label} must set securityContext.seccompProfile.type to RuntimeDefault or Localhost [seccompProfile_restricted]`);
    }
  }
  return found;
};

/** restricted: allowPrivilegeEscalation explicitly false on every container. Windows pods are exempt. */
const allowPrivilegeEscalation: Check = (pod) => {
  if (pod.isWindows) return [];
  return pod.containers
    .filter((c) => c.sc.allowPrivilegeEscalation !== false)
    .map((c) => `${c.label} must set securityContext.allowPrivilegeEscalation=false [allowPrivilegeEscalation]`);
};

/** restricted: runAsNonRoot true at pod level or on every container, and false nowhere. */
const runAsNonRoot: Check = (pod) => {
  const found: string[] = [];
  if (pod.sc.runAsNonRoot === false) found.push('pod must not set securityContext.runAsNonRoot=false [runAsNonRoot]');
  const podTrue = pod.sc.runAsNonRoot === true;
  for (const c of pod.containers) {
    if (c.sc.runAsNonRoot === false) {
      found.push(`${c.label} must not set securityContext.runAsNonRoot=false [runAsNonRoot]`);
    } else if (c.sc.runAsNonRoot === undefined && !podTrue) {
      found.push(`pod or ${c.label} must set securityContext.runAsNonRoot=true [runAsNonRoot]`);
    }
  }
  return found;
};

/** restricted: runAsUser is never 0, at pod or container level. */
const runAsUser: Check = (pod) => {
  const holders = pod.securityContexts();
  return holders.filter(([, sc]) => sc.runAsUser === 0).map(([who]) => `${who} must not set securityContext.runAsUser=0 [runAsUser]`);
};

/** What node-exporter's pod relaxes of Pod Security restricted, exactly, in every Kubernetes rendering. */
export const NODE_EXPORTER_RELAXATIONS: readonly string[] = [
  'pod must not set hostNetwork=true [hostNamespaces]',
  ...['proc', 'sys', 'root'].map((v) => `volume "${v}" must not use volume type hostPath (allowed: configMap, csi, downwardAPI, emptyDir, ephemeral, image, persistentVolumeClaim, projected, secret) [restrictedVolumes]`),
];
