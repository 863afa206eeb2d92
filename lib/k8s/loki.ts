/**
 * Loki, monolithic: one pod with its chunks, index and compactor on a PersistentVolumeClaim; the log
 * agent pushes to its Service and Grafana queries it.
 */
import { k8s } from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { LokiSettings, StackConfig } from '../config';
import { modelDefaults } from './util';
import { configChecksum, httpProbe, pvcSpec, resourceRequirements, restrictedContainerSecurity, restrictedPodSecurity, scrapeAnnotations, singlePodDeploymentSpec } from './util';
import { applyPodSettingsTo } from './pod-settings';
import { componentLabels, selectorLabels } from './labels';
import { renderLokiConfig } from '../render/loki-config';
import { toYaml } from '../render/yaml';
import { LOKI_CONFIG_DIR, LOKI_DATA_DIR, LOKI_GRPC_PORT, LOKI_HTTP_PORT, LOKI_NAME, LOKI_PUSH_PATH, LOKI_READY_PATH, LOKI_UID, lokiFlags, lokiS3Environment } from '../components/loki';

/** In-cluster base URL of Loki (Grafana's data source). */
export function lokiUrl(c: Pick<StackConfig, 'namespace' | 'clusterDomain'>): string {
  return `http://${LOKI_NAME}.${c.namespace}.svc.${c.clusterDomain}:${LOKI_HTTP_PORT}`;
}

/** In-cluster push URL of Loki: the log agent runs in another namespace, so the name is fully qualified. */
export function lokiPushUrl(c: Pick<StackConfig, 'namespace' | 'clusterDomain'>): string {
  return `${lokiUrl(c)}${LOKI_PUSH_PATH}`;
}

export interface LokiProps {
  /** Namespace of Loki's objects (Pod Security restricted). @default monitoring */
  readonly namespace?: string;
  /** Loki's settings: the model's `loki` block. @default the model's defaults */
  readonly settings?: LokiSettings;
  /** The cluster's DNS domain, in Loki's address. @default cluster.local */
  readonly clusterDomain?: string;
}


export class Loki extends Construct {
  /** In-cluster base URL (Grafana's data source). */
  public readonly url: string;
  /** In-cluster push URL (the log agent's client). */
  public readonly pushUrl: string;
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

    this.configYaml = toYaml(renderLokiConfig(l));
    const configData = { 'loki.yaml': this.configYaml };
    const config = new k8s.KubeConfigMap(this, 'config', {
      metadata: { name: `${name}-config`, namespace: ns, labels },
      data: configData,
    });
    const pvc = new k8s.KubePersistentVolumeClaim(this, 'data', {
      metadata: { name: `${name}-data`, namespace: ns, labels },
      spec: pvcSpec(l.storage.size, l.storage.storageClassName),
    });

    const deployment = new k8s.KubeDeployment(this, 'deployment', {
      metadata: { name, namespace: ns, labels },
      // One pod owns the ReadWriteOnce volume (and Loki's single-process rings) at a time.
      spec: singlePodDeploymentSpec(name, labels, {
        ...scrapeAnnotations(LOKI_HTTP_PORT),
        'checksum/config': configChecksum(configData),
      }, {
        // Loki never calls the Kubernetes API.
        automountServiceAccountToken: false,
        securityContext: restrictedPodSecurity(LOKI_UID),
        // Time to stop cleanly. With the WAL on (Loki's default) the ingester does not flush its in-memory
        // chunks at shutdown (ingester.wal.flush_on_shutdown is false): they are in the WAL on the volume
        // and replayed at the next start.
        terminationGracePeriodSeconds: 60,
        containers: [{
          name,
          image: `${l.image.repository}:${l.image.tag}`,
          imagePullPolicy: l.image.pullPolicy,
          args: lokiFlags(),
          ...(l.storage.s3.enabled ? { env: lokiS3Environment(l.storage.s3) } : {}),
          ports: [
            { name: 'http', containerPort: LOKI_HTTP_PORT, protocol: 'TCP' },
            { name: 'grpc', containerPort: LOKI_GRPC_PORT, protocol: 'TCP' },
          ],
          // /ready turns 200 some 15 s after the ingester joins its ring (min_ready_duration).
          readinessProbe: httpProbe(LOKI_READY_PATH, 'http', { initialDelaySeconds: 15, periodSeconds: 10 }),
          // Lenient: Loki has no separate liveness endpoint, and WAL replay after a crash can take a while;
          // only a Loki that stays unready for about three minutes is restarted.
          livenessProbe: httpProbe(LOKI_READY_PATH, 'http', { initialDelaySeconds: 60, periodSeconds: 20, timeoutSeconds: 5, failureThreshold: 9 }),
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
          { name: 'data', persistentVolumeClaim: { claimName: pvc.name } },
          { name: 'tmp', emptyDir: { sizeLimit: k8s.Quantity.fromString('256Mi') } },
        ],
      }),
    });
    applyPodSettingsTo(deployment, l);

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
