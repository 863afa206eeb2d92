/**
 * Loki, monolithic: one pod with its chunks, index and compactor on a PersistentVolumeClaim (a Deployment), or
 * with loki.replicas above 1 and a bucket, a StatefulSet of pods with a claim each that form one ring over
 * memberlist; the log agent pushes to its Service and Grafana queries it, whichever pod answers.
 */
import { k8s } from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { LokiSettings, StackConfig } from '../config';
import { modelDefaults } from './util';
import { configChecksum, httpProbe, oneAtATimeBudget, peersService, pvcSpec, resourceRequirements, restrictedContainerSecurity, restrictedPodSecurity, scrapeAnnotations, singlePodDeploymentSpec, spreadOverNodes } from './util';
import { applyPodSettingsTo } from './pod-settings';
import { componentLabels, selectorLabels } from './labels';
import { LokiPeers, renderLokiConfig } from '../render/loki-config';
import { toYaml } from '../render/yaml';
import { LOKI_CONFIG_DIR, LOKI_DATA_DIR, LOKI_GRPC_PORT, LOKI_HTTP_PORT, LOKI_MEMBERLIST_PORT, LOKI_MEMBERLIST_SERVICE, LOKI_NAME, LOKI_POD_IP_VARIABLE, LOKI_PUSH_PATH, LOKI_READY_PATH, LOKI_UID, LokiEndpoint, lokiFlags, lokiS3Environment } from '../components/loki';

/** In-cluster base URL of Loki (Grafana's data source). */
export function lokiUrl(c: Pick<StackConfig, 'namespace' | 'clusterDomain'>): string {
  return `http://${LOKI_NAME}.${c.namespace}.svc.${c.clusterDomain}:${LOKI_HTTP_PORT}`;
}

/** In-cluster push URL of Loki: the log agent runs in another namespace, so the name is fully qualified. */
export function lokiPushUrl(c: Pick<StackConfig, 'namespace' | 'clusterDomain'>): string {
  return `${lokiUrl(c)}${LOKI_PUSH_PATH}`;
}

/** Where several Loki pods find each other: the headless Service's name, and the ring's cluster label. */
export function lokiPeers(c: Pick<StackConfig, 'namespace' | 'clusterDomain'>): LokiPeers {
  return { service: `${LOKI_MEMBERLIST_SERVICE}.${c.namespace}.svc.${c.clusterDomain}`, clusterLabel: `${LOKI_NAME}.${c.namespace}` };
}

export interface LokiProps {
  /** Namespace of Loki's objects (Pod Security restricted). @default monitoring */
  readonly namespace?: string;
  /** Loki's settings: the model's `loki` block. @default the model's defaults */
  readonly settings?: LokiSettings;
  /** The cluster's DNS domain, in Loki's address. @default cluster.local */
  readonly clusterDomain?: string;
}


export class Loki extends Construct implements LokiEndpoint {
  /** In-cluster base URL (Grafana's data source). */
  public readonly url: string;
  /** In-cluster push URL (the log agent's client). */
  public readonly pushUrl: string;
  /** One tenant: no X-Scope-OrgID header (auth_enabled is false). */
  public readonly tenant = '';
  /** No authentication. */
  public readonly username = '';
  /** The rendered loki.yaml. */
  public readonly configYaml: string;

  constructor(scope: Construct, id: string, props: LokiProps = {}) {
    super(scope, id);
    const defaults = modelDefaults();
    const l = props.settings ?? defaults.loki;
    const ns = props.namespace ?? defaults.namespace;
    const c = { namespace: ns, clusterDomain: props.clusterDomain ?? defaults.clusterDomain };
    const name = LOKI_NAME;
    const labels = componentLabels(name, 'logs', l.image);
    this.url = lokiUrl(c);
    this.pushUrl = lokiPushUrl(c);

    // Several pods: one ring over memberlist, each pod with its own claim (WAL, index cache, compactor's work).
    const several = l.replicas > 1;
    this.configYaml = toYaml(renderLokiConfig(l, several ? lokiPeers(c) : undefined));
    const configData = { 'loki.yaml': this.configYaml };
    const config = new k8s.KubeConfigMap(this, 'config', {
      metadata: { name: `${name}-config`, namespace: ns, labels },
      data: configData,
    });
    // The ServiceAccount's annotations too: a cloud's identity webhook injects the role only into new pods, so a
    // changed role (eks.amazonaws.com/role-arn) rolls them.
    const identity = l.serviceAccount.annotations;
    const annotations = {
      ...scrapeAnnotations(LOKI_HTTP_PORT),
      'checksum/config': configChecksum(Object.keys(identity).length > 0 ? { ...configData, 'serviceAccount.annotations': JSON.stringify(identity) } : configData),
    };
    // Loki's own identity, with no permissions in the cluster: what a cloud gives the bucket's role to
    // (loki.storage.s3.workloadIdentity), through the annotations or an association made outside the cluster.
    const serviceAccount = new k8s.KubeServiceAccount(this, 'service-account', {
      metadata: { name, namespace: ns, labels, ...(Object.keys(identity).length > 0 ? { annotations: identity } : {}) },
      automountServiceAccountToken: false,
    });
    const livenessTimings = { initialDelaySeconds: 60, periodSeconds: 20, timeoutSeconds: 5, failureThreshold: 9 };
    const env: k8s.EnvVar[] = [
      // Several pods: each one's own address, which its loki.yaml advertises (common.instance_addr).
      ...(several ? [{ name: LOKI_POD_IP_VARIABLE, valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } }] : []),
      ...lokiS3Environment(l.storage.s3),
    ];
    const pod: k8s.PodSpec = {
      serviceAccountName: serviceAccount.name,
      // Loki never calls the Kubernetes API. (An identity webhook projects a token of its own for the cloud.)
      automountServiceAccountToken: false,
      securityContext: restrictedPodSecurity(LOKI_UID),
      ...(several ? { topologySpreadConstraints: spreadOverNodes(name) } : {}),
      // Time to stop cleanly. With the WAL on (Loki's default) the ingester does not flush its in-memory
      // chunks at shutdown (ingester.wal.flush_on_shutdown is false): they are in the WAL on the volume
      // and replayed at the next start.
      terminationGracePeriodSeconds: 60,
      containers: [{
        name,
        image: `${l.image.repository}:${l.image.tag}`,
        imagePullPolicy: l.image.pullPolicy,
        args: lokiFlags(several),
        ...(env.length > 0 ? { env } : {}),
        ports: [
          { name: 'http', containerPort: LOKI_HTTP_PORT, protocol: 'TCP' },
          { name: 'grpc', containerPort: LOKI_GRPC_PORT, protocol: 'TCP' },
          ...(several ? [{ name: 'memberlist', containerPort: LOKI_MEMBERLIST_PORT, protocol: 'TCP' }] : []),
        ],
        // /ready turns 200 some 15 s after the ingester joins its ring (min_ready_duration).
        readinessProbe: httpProbe(LOKI_READY_PATH, 'http', { initialDelaySeconds: 15, periodSeconds: 10 }),
        // Lenient: Loki has no separate liveness endpoint, and WAL replay after a crash can take a while;
        // only a Loki that stays unready for about three minutes is restarted. Several pods: whether it answers
        // at all, since /ready also waits for every other ring member to be healthy, which a restart cannot mend.
        livenessProbe: several
          ? { tcpSocket: { port: k8s.IntOrString.fromString('http') }, ...livenessTimings }
          : httpProbe(LOKI_READY_PATH, 'http', livenessTimings),
        resources: resourceRequirements(l.resources),
        securityContext: restrictedContainerSecurity(),
        volumeMounts: [
          { name: 'config', mountPath: LOKI_CONFIG_DIR, readOnly: true },
          { name: 'data', mountPath: LOKI_DATA_DIR },
          // The root filesystem is read-only; the compactor's retention writes its markers in /tmp.
          { name: 'tmp', mountPath: '/tmp' },
        ],
      }],
      volumes: [
        { name: 'config', configMap: { name: config.name } },
        // Several pods: `data` is each pod's claim, from the StatefulSet's volumeClaimTemplates.
        ...(several ? [] : [{ name: 'data', persistentVolumeClaim: { claimName: `${name}-data` } }]),
        { name: 'tmp', emptyDir: { sizeLimit: k8s.Quantity.fromString('256Mi') } },
      ],
    };

    if (several) {
      // The pods find each other through it (not-ready ones too: a pod joins the ring before it is ready).
      peersService(this, 'memberlist', { name: LOKI_MEMBERLIST_SERVICE, namespace: ns, labels, component: name, ports: [{ name: 'memberlist', port: LOKI_MEMBERLIST_PORT, protocol: 'TCP' }] });
      const statefulSet = new k8s.KubeStatefulSet(this, 'statefulset', {
        metadata: { name, namespace: ns, labels },
        spec: {
          serviceName: LOKI_MEMBERLIST_SERVICE,
          replicas: l.replicas,
          // All pods start at once (a lone first pod would wait for nothing); updates go one pod at a time.
          podManagementPolicy: 'Parallel',
          updateStrategy: { type: 'RollingUpdate' },
          selector: { matchLabels: selectorLabels(name) },
          template: { metadata: { labels, annotations }, spec: pod },
          // A StatefulSet's claim templates cannot change after it is created: stable labels only (no version).
          volumeClaimTemplates: [{ metadata: { name: 'data', labels: selectorLabels(name) }, spec: pvcSpec(l.storage.size, l.storage.storageClassName) }],
        },
      });
      applyPodSettingsTo(statefulSet, l);
      // A node drain takes one pod at a time: with 3 or more, the others still make a quorum.
      oneAtATimeBudget(this, 'disruption-budget', { name, namespace: ns, labels });
    } else {
      new k8s.KubePersistentVolumeClaim(this, 'data', {
        metadata: { name: `${name}-data`, namespace: ns, labels },
        spec: pvcSpec(l.storage.size, l.storage.storageClassName),
      });
      // One pod owns the ReadWriteOnce volume (and Loki's single-process rings) at a time.
      const deployment = new k8s.KubeDeployment(this, 'deployment', {
        metadata: { name, namespace: ns, labels },
        spec: singlePodDeploymentSpec(name, labels, annotations, pod),
      });
      applyPodSettingsTo(deployment, l);
    }

    new k8s.KubeService(this, 'service', {
      metadata: { name, namespace: ns, labels },
      spec: {
        type: 'ClusterIP',
        selector: selectorLabels(name),
        ports: [
          { name: 'http', port: LOKI_HTTP_PORT, targetPort: k8s.IntOrString.fromString('http'), protocol: 'TCP' },
          { name: 'grpc', port: LOKI_GRPC_PORT, targetPort: k8s.IntOrString.fromString('grpc'), protocol: 'TCP' },
        ],
      },
    });
  }
}
