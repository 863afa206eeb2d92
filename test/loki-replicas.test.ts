/**
 * Several Loki pods (loki.replicas above 1, with loki.storage.s3): one ring over memberlist, a StatefulSet with a
 * claim each, a headless Service the pods find each other through, a disruption budget, and the ports they use for
 * each other open between them and nobody else. Loki cannot run here: what is checked is that the objects agree
 * with each other and with the loki.yaml they run (every address and port Loki is told to use is the one the
 * objects provide), strict validity and Pod Security, and the refusals. Loki's keys are checked against its
 * reference in test/logs-config-keys.test.ts.
 */
import { parse } from 'yaml';
import * as fs from 'fs';
import * as path from 'path';
import { parseStackConfig, StackInput } from '../lib';
import { lokiReplicationFactor } from '../lib/components/loki';
import { COMPOSE_FILES } from '../lib/compose/config-files';
import { renderCompose } from '../lib/compose/render-compose';
import { readVerifyPlan } from '../lib/verify';
import { renderManifests } from '../lib';
import { find, LOKI_RING_INPUT, synthObjects } from './helpers/stack';
import { tempDir } from './helpers/temp-dir';
import { CHART_DIR, helmTemplate } from './helm-support';
import { validateManifest } from './support/k8s-schema';
import { restrictedViolations } from './support/pss';

const objects = synthObjects(LOKI_RING_INPUT);
const isLoki = (o: any) => o.metadata?.labels?.['app.kubernetes.io/name'] === 'loki';
const statefulSet = find(objects, 'StatefulSet', 'loki', 'monitoring');
const pod = statefulSet.spec.template.spec;
const container = pod.containers[0];
const lokiYaml: any = parse(find(objects, 'ConfigMap', 'loki-config', 'monitoring').data['loki.yaml']);
const headless = find(objects, 'Service', 'loki-memberlist', 'monitoring');
const policy = find(objects, 'NetworkPolicy', 'loki', 'monitoring');
const containerPort = (name: string) => container.ports.find((p: any) => p.name === name)?.containerPort;

describe('three Loki pods on a bucket', () => {
  test('a StatefulSet with a claim each, a headless Service and a disruption budget instead of the Deployment and its claim', () => {
    expect(objects.filter(isLoki).map((o) => `${o.kind}/${o.metadata.name}`).sort()).toEqual([
      'ConfigMap/loki-config', 'NetworkPolicy/loki', 'PodDisruptionBudget/loki', 'Service/loki', 'Service/loki-memberlist', 'ServiceAccount/loki', 'StatefulSet/loki',
    ]);
    for (const o of objects.filter(isLoki)) expect({ object: `${o.kind}/${o.metadata.name}`, problems: validateManifest(o, '1.27') }).toEqual({ object: `${o.kind}/${o.metadata.name}`, problems: [] });
    expect(restrictedViolations(pod, statefulSet.spec.template.metadata.annotations)).toEqual([]);
  });

  test('every pod mounts its own claim at /loki; the claim template\'s labels cannot drift (no version)', () => {
    expect(statefulSet.spec).toMatchObject({ replicas: 3, serviceName: 'loki-memberlist', podManagementPolicy: 'Parallel', updateStrategy: { type: 'RollingUpdate' } });
    expect(statefulSet.spec.volumeClaimTemplates).toEqual([{
      metadata: { name: 'data', labels: statefulSet.spec.selector.matchLabels },
      spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '20Gi' } } },
    }]);
    expect(pod.volumes.map((v: any) => v.name)).not.toContain('data');
    expect(container.volumeMounts).toContainEqual({ name: 'data', mountPath: '/loki' });
    // Another image tag changes the pods, not the claim template (which a StatefulSet cannot change).
    const newer = find(synthObjects({ loki: { ...LOKI_RING_INPUT.loki, image: { tag: '3.7.7' } } }), 'StatefulSet', 'loki', 'monitoring');
    expect(newer.spec.volumeClaimTemplates).toEqual(statefulSet.spec.volumeClaimTemplates);
    expect(newer.spec.template.metadata.labels).not.toEqual(statefulSet.spec.template.metadata.labels);
  });

  test('spread over the nodes where the scheduler can; a drain takes one pod at a time', () => {
    const selector = statefulSet.spec.selector;
    expect(pod.topologySpreadConstraints).toEqual([{ maxSkew: 1, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'ScheduleAnyway', labelSelector: selector }]);
    expect(find(objects, 'PodDisruptionBudget', 'loki', 'monitoring').spec).toEqual({ maxUnavailable: 1, selector });
  });

  test('memberlist.join_members names the headless Service, which resolves to every Loki pod (ready or not) on the port Loki binds', () => {
    const [join] = lokiYaml.memberlist.join_members;
    const m = /^dns\+([^:]+):(\d+)$/.exec(join);
    expect(m).not.toBeNull();
    expect(m![1]).toBe(`${headless.metadata.name}.${headless.metadata.namespace}.svc.cluster.local`);
    expect(Number(m![2])).toBe(lokiYaml.memberlist.bind_port);
    expect(headless.spec).toMatchObject({ clusterIP: 'None', publishNotReadyAddresses: true, selector: statefulSet.spec.selector.matchLabels });
    expect(headless.spec.ports).toEqual([{ name: 'memberlist', port: lokiYaml.memberlist.bind_port, targetPort: 'memberlist', protocol: 'TCP' }]);
    expect(containerPort('memberlist')).toBe(lokiYaml.memberlist.bind_port);
    expect(statefulSet.spec.serviceName).toBe(headless.metadata.name);
    // Another namespace and cluster domain: the name follows.
    const other = synthObjects({ ...LOKI_RING_INPUT, namespace: 'observability', clusterDomain: 'cluster.example' });
    expect(parse(find(other, 'ConfigMap', 'loki-config', 'observability').data['loki.yaml']).memberlist)
      .toMatchObject({ join_members: ['dns+loki-memberlist.observability.svc.cluster.example:7946'], cluster_label: 'loki.observability' });
  });

  test('one ring over memberlist, each stream on three pods, tokens kept on the claim, a lost pod forgotten', () => {
    expect(lokiYaml.common.ring).toEqual({ kvstore: { store: 'memberlist' } });
    expect(lokiYaml.common.replication_factor).toBe(3);
    expect(lokiYaml.memberlist.cluster_label).toBe('loki.monitoring');
    // Tokens under path_prefix, on the pod's claim: the compactor's leadership survives a restart.
    expect(lokiYaml.common).toMatchObject({ persist_tokens: true, path_prefix: '/loki' });
    expect(container.volumeMounts).toContainEqual({ name: 'data', mountPath: lokiYaml.common.path_prefix });
    expect(lokiYaml.ingester.autoforget_unhealthy).toBe(true);
    // /ready also asks the pattern ingester, whose ring forgets nobody: it checks the pod itself only.
    expect(lokiYaml.pattern_ingester).toEqual({ enabled: true, lifecycler: { readiness_check_ring_health: false } });
  });

  test('each pod advertises its own address: ${POD_IP} in loki.yaml, expanded by Loki from the downward API', () => {
    // Not loopback (the others must reach it), not guessed from interfaces: the pod's address as Kubernetes gave it.
    expect(lokiYaml.common.instance_addr).toBe('${POD_IP}');
    expect(container.args).toContain('-config.expand-env=true');
    expect(container.env).toContainEqual({ name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } });
    // Every other `$` would be expanded too: there is none.
    const text: string = find(objects, 'ConfigMap', 'loki-config', 'monitoring').data['loki.yaml'];
    expect(text.match(/\$/g)).toHaveLength(1);
    // One pod: no expansion, no variable.
    const single = find(synthObjects({}), 'Deployment', 'loki', 'monitoring').spec.template.spec.containers[0];
    expect(single.args).toEqual(['-config.file=/etc/loki/loki.yaml']);
    expect(single.env).toBeUndefined();
  });

  test('the bucket holds every day, one period: the pods share no volume for a filesystem one', () => {
    expect(lokiYaml.schema_config.configs).toEqual([{ from: '2024-04-01', store: 'tsdb', object_store: 's3', schema: 'v13', index: { prefix: 'index_', period: '24h' } }]);
    expect(lokiYaml.compactor.delete_request_store).toBe('s3');
    // The same index tables (prefix, period) as the single pod's bucket period, so the days it wrote there stay readable.
    const single = parse(find(synthObjects({ loki: { ...LOKI_RING_INPUT.loki, replicas: 1 } }), 'ConfigMap', 'loki-config', 'monitoring').data['loki.yaml']);
    const { from: _from, ...bucketPeriod } = single.schema_config.configs[1];
    const { from: _first, ...ringPeriod } = lokiYaml.schema_config.configs[0];
    expect(ringPeriod).toEqual(bucketPeriod);
  });

  test('liveness asks whether Loki answers, not whether the whole ring is healthy (readiness does)', () => {
    expect(container.readinessProbe.httpGet).toEqual({ path: '/ready', port: 'http' });
    expect(container.livenessProbe.tcpSocket).toEqual({ port: 'http' });
    expect(container.livenessProbe.httpGet).toBeUndefined();
  });

  test('the ports the pods use for each other (gRPC, gossip) are open between Loki\'s pods only; HTTP stays its clients\'', () => {
    const peerPorts = [lokiYaml.server.grpc_listen_port, lokiYaml.memberlist.bind_port];
    expect(peerPorts.map((p) => container.ports.some((c: any) => c.containerPort === p && c.protocol === 'TCP'))).toEqual([true, true]);
    const [clients, peers] = policy.spec.ingress;
    expect(clients.ports).toEqual([{ protocol: 'TCP', port: lokiYaml.server.http_listen_port }]);
    expect(clients.from.map((f: any) => f.podSelector.matchLabels['app.kubernetes.io/name']).sort()).toEqual(['grafana', 'prometheus', 'promtail']);
    // Loki's own pods: a podSelector alone names pods of the policy's own namespace.
    expect(peers).toEqual({ from: [{ podSelector: { matchLabels: statefulSet.spec.selector.matchLabels } }], ports: peerPorts.map((port) => ({ protocol: 'TCP', port })) });
    expect(policy.spec.ingress).toHaveLength(2);
    // One pod talks to itself on loopback: no such rule.
    expect(find(synthObjects({}), 'NetworkPolicy', 'loki', 'monitoring').spec.ingress).toHaveLength(1);
  });

  test('npm run status and npm run verify find Loki as a StatefulSet', () => {
    const dir = tempDir('loki-ring-dist-');
    for (const [name, content] of renderManifests(parseStackConfig(LOKI_RING_INPUT))) fs.writeFileSync(path.join(dir, name), content);
    const plan = readVerifyPlan(dir);
    expect(plan).toMatchObject({ lokiNamespace: 'monitoring', lokiWorkload: 'sts' });
    expect(plan.targets).toContainEqual({ job: 'kubernetes-pods', app: 'loki' });
    expect(readVerifyPlan(path.join(__dirname, '..', 'dist'))).toMatchObject({ lokiWorkload: 'deploy' });
  });
});

describe('the bucket\'s keys with several pods: each pod\'s address and the Secret\'s keys side by side', () => {
  test('cdk8s: POD_IP, then the keys from the Secret', () => {
    expect(container.env.map((e: any) => e.name)).toEqual(['POD_IP', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY']);
  });

  test('the chart (ci/21 with a Secret instead of the pods\' identity) renders the same environment', () => {
    const chart = helmTemplate({
      valuesFiles: [path.join(CHART_DIR, 'ci/21-loki-replicas-values.yaml')],
      set: ['loki.storage.s3.workloadIdentity=false'],
      setString: ['loki.storage.s3.credentialsSecret.name=loki-s3'],
    });
    expect(find(chart, 'StatefulSet', 'loki', 'monitoring').spec.template.spec.containers[0].env).toEqual(container.env);
    // ci/21 itself: the identity, no keys.
    const identity = helmTemplate({ valuesFiles: [path.join(CHART_DIR, 'ci/21-loki-replicas-values.yaml')] });
    expect(find(identity, 'StatefulSet', 'loki', 'monitoring').spec.template.spec.containers[0].env.map((e: any) => e.name)).toEqual(['POD_IP']);
  });
});

describe('replicas and the replication factor', () => {
  test.each([[2, 2], [3, 3], [4, 3], [15, 3]])('%i pods keep each stream on %i', (replicas, factor) => {
    expect(lokiReplicationFactor(replicas)).toBe(factor);
    const input: StackInput = { loki: { ...LOKI_RING_INPUT.loki, replicas } };
    const o = synthObjects(input);
    expect(parse(find(o, 'ConfigMap', 'loki-config', 'monitoring').data['loki.yaml']).common.replication_factor).toBe(factor);
    expect(find(o, 'StatefulSet', 'loki', 'monitoring').spec.replicas).toBe(replicas);
  });

  test('one pod on a bucket stays the Deployment on loki-data, its rings in memory on loopback', () => {
    const single = synthObjects({ loki: { ...LOKI_RING_INPUT.loki, replicas: 1 } });
    expect(single.filter((o) => o.kind === 'StatefulSet' || o.kind === 'PodDisruptionBudget')).toEqual([]);
    expect(find(single, 'Deployment', 'loki', 'monitoring').spec.template.spec.volumes).toContainEqual({ name: 'data', persistentVolumeClaim: { claimName: 'loki-data' } });
    const config = parse(find(single, 'ConfigMap', 'loki-config', 'monitoring').data['loki.yaml']);
    expect(config.common).toMatchObject({ replication_factor: 1, ring: { kvstore: { store: 'inmemory' } }, instance_addr: '127.0.0.1' });
    expect(config.memberlist).toBeUndefined();
  });

  test('refused without a bucket, with the rule; nothing asked of Loki while it is off', () => {
    expect(() => parseStackConfig({ loki: { replicas: 2 } }))
      .toThrow('loki.replicas must be 1 unless loki.storage.s3.enabled is true (each pod would keep its chunks and index on its own volume, so a query would find only what the pod it reached wrote), got 2');
    expect(() => parseStackConfig({ loki: { enabled: false, replicas: 2 } })).not.toThrow();
    expect(() => parseStackConfig({ loki: { ...LOKI_RING_INPUT.loki, replicas: 16 } })).toThrow('loki.replicas');
  });

  test('compose runs one Loki, on its own rings, whatever replicas says', () => {
    const files = renderCompose(parseStackConfig(LOKI_RING_INPUT));
    const config = parse(files.get(COMPOSE_FILES.lokiConfig)!);
    expect(config.common).toMatchObject({ replication_factor: 1, ring: { kvstore: { store: 'inmemory' } }, instance_addr: '127.0.0.1' });
    expect(config.memberlist).toBeUndefined();
    const compose = parse(files.get(COMPOSE_FILES.compose)!);
    expect(Object.keys(compose.services).filter((s) => s.includes('loki'))).toEqual(['loki']);
    expect(compose.services.loki.deploy.replicas).toBeUndefined();
    expect(compose.services.loki.command).toEqual(['-config.file=/etc/loki/loki.yaml']);
  });
});
