/**
 * Alertmanager: one pod with its notification log and silences on a PersistentVolumeClaim, the
 * configuration from lib/render/alertmanager-config.ts, and each receiver's secret from an existing
 * Secret the user names (never in the model, a ConfigMap or git), mounted as files.
 */
import { k8s } from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { ALERTMANAGER_CONFIG_FILE, ALERTMANAGER_DATA_DIR, ALERTMANAGER_HEALTHY_PATH, ALERTMANAGER_IMAGE_FACTS, ALERTMANAGER_NAME, ALERTMANAGER_PORT, ALERTMANAGER_READY_PATH, ALERTMANAGER_SECRETS_DIR, alertmanagerFlags } from '../components/alertmanager';
import { AlertmanagerSettings } from '../config';
import { alertmanagerConfigInput, alertmanagerSecrets, renderAlertmanagerConfig } from '../render/alertmanager-config';
import { toYaml } from '../render/yaml';
import { componentLabels, selectorLabels } from './labels';
import { applyPodSettingsTo } from './pod-settings';
import { configChecksum, httpProbe, modelDefaults, pvcSpec, resourceRequirements, restrictedContainerSecurity, restrictedPodSecurity, scrapeAnnotations, singlePodDeploymentSpec } from './util';

export interface AlertmanagerProps {
  /** Namespace of Alertmanager's objects (Pod Security restricted); the receivers' Secrets live there. @default monitoring */
  readonly namespace?: string;
  /** Alertmanager's settings: the model's `alertmanager` block. @default the model's defaults */
  readonly settings?: AlertmanagerSettings;
  /** The cluster's DNS domain, in Alertmanager's address. @default cluster.local */
  readonly clusterDomain?: string;
}

/** Alertmanager's address, host:port, as Prometheus's `alerting` section takes it. */
export function alertmanagerAddress(namespace: string, clusterDomain: string): string {
  return `${ALERTMANAGER_NAME}.${namespace}.svc.${clusterDomain}:${ALERTMANAGER_PORT}`;
}

export class Alertmanager extends Construct {
  /** In-cluster URL (Grafana's Alertmanager data source). */
  public readonly url: string;
  /** The rendered alertmanager.yml. */
  public readonly configYaml: string;

  constructor(scope: Construct, id: string, props: AlertmanagerProps = {}) {
    super(scope, id);
    const defaults = modelDefaults();
    const a = props.settings ?? defaults.alertmanager;
    const ns = props.namespace ?? defaults.namespace;
    const clusterDomain = props.clusterDomain ?? defaults.clusterDomain;
    const name = ALERTMANAGER_NAME;
    const labels = componentLabels(name, 'alerting', a.image);
    this.url = `http://${alertmanagerAddress(ns, clusterDomain)}`;

    this.configYaml = toYaml(renderAlertmanagerConfig(alertmanagerConfigInput(a)));
    const configData = { 'alertmanager.yml': this.configYaml };
    const config = new k8s.KubeConfigMap(this, 'config', {
      metadata: { name: `${name}-config`, namespace: ns, labels },
      data: configData,
    });
    const pvc = new k8s.KubePersistentVolumeClaim(this, 'data', {
      metadata: { name: `${name}-data`, namespace: ns, labels },
      spec: pvcSpec(a.storage.size, a.storage.storageClassName),
    });
    // Each receiver's secret, a key of a Secret the user made, as one file; readable by the group (fsGroup).
    const secrets = alertmanagerSecrets(a);

    const deployment = new k8s.KubeDeployment(this, 'deployment', {
      metadata: { name, namespace: ns, labels },
      // One pod owns the ReadWriteOnce volume at a time (one replica: no HA gossip, see alertmanagerFlags).
      spec: singlePodDeploymentSpec(name, labels, {
        ...scrapeAnnotations(ALERTMANAGER_PORT),
        'checksum/config': configChecksum(configData),
      }, {
        // Alertmanager never calls the Kubernetes API.
        automountServiceAccountToken: false,
        // The image's USER is the name `nobody`: the kubelet needs its uid to check runAsNonRoot.
        securityContext: restrictedPodSecurity(ALERTMANAGER_IMAGE_FACTS.user.uid),
        terminationGracePeriodSeconds: 30,
        containers: [{
          name,
          image: `${a.image.repository}:${a.image.tag}`,
          imagePullPolicy: a.image.pullPolicy,
          args: alertmanagerFlags(),
          ports: [{ name: 'http', containerPort: ALERTMANAGER_PORT, protocol: 'TCP' }],
          readinessProbe: httpProbe(ALERTMANAGER_READY_PATH, 'http', { periodSeconds: 5 }),
          livenessProbe: httpProbe(ALERTMANAGER_HEALTHY_PATH, 'http', { initialDelaySeconds: 10, periodSeconds: 15, failureThreshold: 4 }),
          resources: resourceRequirements(a.resources),
          securityContext: restrictedContainerSecurity(),
          volumeMounts: [
            { name: 'config', mountPath: ALERTMANAGER_CONFIG_FILE, subPath: 'alertmanager.yml', readOnly: true },
            { name: 'data', mountPath: ALERTMANAGER_DATA_DIR },
            ...(secrets.length > 0 ? [{ name: 'secrets', mountPath: ALERTMANAGER_SECRETS_DIR, readOnly: true }] : []),
          ],
        }],
        volumes: [
          { name: 'config', configMap: { name: config.name } },
          { name: 'data', persistentVolumeClaim: { claimName: pvc.name } },
          ...(secrets.length > 0 ? [{
            name: 'secrets',
            projected: {
              defaultMode: 0o440,
              sources: secrets.map((s) => ({ secret: { name: s.secret.name, items: [{ key: s.secret.key, path: s.file }] } })),
            },
          }] : []),
        ],
      }),
    });
    applyPodSettingsTo(deployment, a);

    new k8s.KubeService(this, 'service', {
      metadata: { name, namespace: ns, labels },
      spec: {
        type: 'ClusterIP',
        selector: selectorLabels(name),
        ports: [{ name: 'http', port: ALERTMANAGER_PORT, targetPort: k8s.IntOrString.fromString('http'), protocol: 'TCP' }],
      },
    });
  }
}
