/**
 * Grafana with its Prometheus and Loki data sources provisioned from files, so they are there on first
 * start and nobody adds one by hand; its sqlite database and plugins live on a PersistentVolumeClaim.
 *
 * The admin password is never in git, in a ConfigMap or in a default value:
 * - with `grafana.adminPasswordSecret`, Grafana reads it from that existing Secret (mounted as a file);
 * - otherwise an init container generates a random one, once, onto Grafana's volume, and Grafana reads it
 *   from there. `kubectl apply -f dist/` thus ends with a working Grafana, the synthesized files stay
 *   deterministic, and `grafanaAdminPasswordCommand()` prints the password.
 * Either way Grafana gets only GF_SECURITY_ADMIN_PASSWORD__FILE: the image's run.sh turns it into
 * GF_SECURITY_ADMIN_PASSWORD (and exits if both are set). Grafana applies the admin password only when it
 * creates its database, on its first start on the volume; the generated file is written before that first
 * start, on the same volume, so the two agree. (Changing the password later: `grafana cli admin
 * reset-admin-password`, or the UI; the file then no longer tells the truth.)
 */
import * as path from 'path';
import { k8s } from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { GrafanaSettings, parseStackConfig } from '../config';
import { Alertmanager } from './alertmanager';
import type { LokiEndpoint } from '../components/loki';
import { Prometheus } from './prometheus';
import { modelDefaults, configChecksum, httpProbe, lokiPasswordVolume, oneAtATimeBudget, peersService, pvcSpec, resourceRequirements, restrictedContainerSecurity, restrictedPodSecurity, scrapeAnnotations, singlePodDeploymentSpec, spreadOverNodes } from './util';
import { applyPodSettingsTo } from './pod-settings';
import { componentLabels, selectorLabels } from './labels';
import { renderGrafanaDashboardProvider, renderGrafanaDatasources } from '../render/grafana-provisioning';
import { renderDashboards } from '../render/dashboards';
import { toYaml } from '../render/yaml';
import { GRAFANA_ADMIN_PASSWORD_FILE, GRAFANA_ADMIN_PASSWORD_VOLUME, GRAFANA_DASHBOARDS_DIR, GRAFANA_DATA_DIR, GRAFANA_HEALTH_PATH, GRAFANA_NAME, GRAFANA_PASSWORD_INIT_SCRIPT, GRAFANA_PORT, GRAFANA_PROVISIONING_DIR, GRAFANA_SECRET_PASSWORD_FILE, GRAFANA_UID, GRAFANA_DATABASE_CA_FILE, GRAFANA_DATABASE_PASSWORD_VARIABLE, GRAFANA_SECRET_KEY_VARIABLES, grafanaDatabaseEnvironment, grafanaSettingsEnvironment, GRAFANA_ALERTING_PORT, GRAFANA_ALERTING_SERVICE, GRAFANA_POD_IP_VARIABLE, grafanaAlertingEnvironment, grafanaRunsSeveral } from '../components/grafana';

/** The one command that prints Grafana's admin password, for a stack in namespace `namespace`. */
export function grafanaAdminPasswordCommand(c: { readonly namespace: string; readonly grafana: { readonly adminPasswordSecret?: { readonly name: string; readonly key: string } } }): string {
  const secret = c.grafana.adminPasswordSecret;
  if (secret) {
    return `kubectl -n ${c.namespace} get secret ${secret.name} -o jsonpath='{.data.${secret.key.replace(/\./g, '\\.')}}' | base64 -d`;
  }
  return `kubectl -n ${c.namespace} exec deploy/${GRAFANA_NAME} -c ${GRAFANA_NAME} -- cat ${GRAFANA_ADMIN_PASSWORD_FILE}`;
}

/** The command that prints the admin password of the default stack (README, NOTES, tests use this text). */
export const GRAFANA_ADMIN_PASSWORD_COMMAND = grafanaAdminPasswordCommand(parseStackConfig({}));

export interface GrafanaProps {
  /** Namespace of Grafana's objects (Pod Security restricted). @default monitoring */
  readonly namespace?: string;
  /** Grafana's settings: the model's `grafana` block. @default the model's defaults */
  readonly settings?: GrafanaSettings;
  /** The cluster's DNS domain, in Grafana's address. @default cluster.local */
  readonly clusterDomain?: string;
  /** The Prometheus its default data source queries (its URL, scrape interval and version). */
  readonly prometheus: Prometheus;
  /** The Loki its Loki data source and the dashboards' logs rows query (its URL and tenant). @default none: no Loki data source */
  readonly loki?: LokiEndpoint;
  /** Whether that Loki is the stack's own, which Prometheus scrapes (Stack health's Loki row). @default whether there is a Loki */
  readonly lokiMetrics?: boolean;
  /** The Alertmanager its Alertmanager data source shows alerts and silences of. @default none */
  readonly alertmanager?: Alertmanager;
  /** Whether Prometheus scrapes the kubelets (the Containers dashboard). @default false */
  readonly kubelet?: boolean;
  /** Whether kube-state-metrics runs (the Containers dashboard's requests, limits, restarts). @default false */
  readonly kubeStateMetrics?: boolean;
  /** Whether node-exporter runs (the Nodes dashboard). @default false */
  readonly nodeExporter?: boolean;
}

export class Grafana extends Construct {
  /** In-cluster URL of Grafana. */
  public readonly url: string;
  /** The rendered datasources.yaml. */
  public readonly datasourcesYaml: string;

  constructor(scope: Construct, id: string, props: GrafanaProps) {
    super(scope, id);
    const defaults = modelDefaults();
    const g = props.settings ?? defaults.grafana;
    const ns = props.namespace ?? defaults.namespace;
    const clusterDomain = props.clusterDomain ?? defaults.clusterDomain;
    const prometheus = props.prometheus.settings;
    const name = GRAFANA_NAME;
    const labels = componentLabels(name, 'dashboards', g.image);
    const image = `${g.image.repository}:${g.image.tag}`;
    this.url = `http://${name}.${ns}.svc.${clusterDomain}:${GRAFANA_PORT}`;

    const promTag = prometheus.image.tag.replace(/^v/, '');
    this.datasourcesYaml = toYaml(renderGrafanaDatasources(
      { prometheus: props.prometheus.url, loki: props.loki?.url, alertmanager: props.alertmanager?.url },
      {
        scrapeIntervalSeconds: prometheus.scrapeIntervalSeconds,
        exemplars: prometheus.maxExemplars > 0,
        prometheusQuery: g.prometheusQuery,
        lokiTenant: props.loki?.tenant ?? '',
        lokiUsername: props.loki?.username ?? '',
        // Only a plain x.y.z tells Grafana which PromQL features it may use; otherwise keep the pinned one.
        ...(/^[0-9]+\.[0-9]+\.[0-9]+$/.test(promTag) ? { prometheusVersion: promTag } : {}),
      },
    ));
    const datasourcesData = { 'datasources.yaml': this.datasourcesYaml };
    const providersData = { 'dashboards.yaml': toYaml(renderGrafanaDashboardProvider()) };
    // The dashboards (lib/render/dashboards.ts) as files at the top of the provider's directory; a change
    // rolls the pod through checksum/config. The rows of Loki and Alertmanager only when they are there to answer.
    const dashboardsData = Object.fromEntries(renderDashboards({
      loki: props.loki !== undefined, lokiMetrics: props.lokiMetrics ?? props.loki !== undefined, alertmanager: props.alertmanager !== undefined, prometheus: prometheus.enabled,
      kubelet: props.kubelet ?? false, kubeStateMetrics: props.kubeStateMetrics ?? false, nodeExporter: props.nodeExporter ?? false,
    }));

    const datasources = new k8s.KubeConfigMap(this, 'datasources', {
      metadata: { name: `${name}-datasources`, namespace: ns, labels },
      data: datasourcesData,
    });
    const providers = new k8s.KubeConfigMap(this, 'dashboard-providers', {
      metadata: { name: `${name}-dashboard-providers`, namespace: ns, labels },
      data: providersData,
    });
    const dashboards = new k8s.KubeConfigMap(this, 'dashboards', {
      metadata: { name: `${name}-dashboards`, namespace: ns, labels },
      data: dashboardsData,
    });
    // With PostgreSQL the database is elsewhere: no volume, so the pods are interchangeable.
    const postgres = g.postgres.enabled;
    const databaseCa = postgres && g.postgres.caSecret.name !== '' ? g.postgres.caSecret : undefined;
    const pvc = postgres ? undefined : new k8s.KubePersistentVolumeClaim(this, 'data', {
      metadata: { name: `${name}-data`, namespace: ns, labels },
      spec: pvcSpec(g.storage.size, g.storage.storageClassName),
    });

    const { GF_SECURITY_ADMIN_USER, ...settings } = grafanaSettingsEnvironment(g);
    const secret = g.adminPasswordSecret;
    const passwordFile = secret ? GRAFANA_SECRET_PASSWORD_FILE : GRAFANA_ADMIN_PASSWORD_FILE;
    const dataMount: k8s.VolumeMount = { name: 'data', mountPath: GRAFANA_DATA_DIR };
    const lokiPassword = lokiPasswordVolume(props.loki);

    // The generator runs with the same image, uid and restricted security as Grafana, with tiny resources
    // (below Grafana's, so the pod's effective requests stay Grafana's).
    const initContainers: k8s.Container[] = secret ? [] : [{
      name: 'init-admin-password',
      image,
      imagePullPolicy: g.image.pullPolicy,
      command: ['sh', '-c', GRAFANA_PASSWORD_INIT_SCRIPT],
      resources: resourceRequirements({ requests: { cpu: '10m', memory: '16Mi' }, limits: { cpu: '100m', memory: '32Mi' } }),
      securityContext: restrictedContainerSecurity(),
      volumeMounts: [dataMount],
    }];

    // Several pods: spread over the nodes where the scheduler can, and a drain takes one at a time.
    const several = grafanaRunsSeveral(g);
    const singlePod = singlePodDeploymentSpec(name, labels, {
      // Grafana serves its own metrics at /metrics on the HTTP port.
      ...scrapeAnnotations(GRAFANA_PORT),
      'checksum/config': configChecksum({ ...datasourcesData, ...providersData, ...dashboardsData }),
    }, {
      // Grafana never calls the Kubernetes API.
      automountServiceAccountToken: false,
      securityContext: restrictedPodSecurity(GRAFANA_UID),
      ...(several ? { topologySpreadConstraints: spreadOverNodes(name) } : {}),
      terminationGracePeriodSeconds: 30,
      ...(initContainers.length > 0 ? { initContainers } : {}),
      containers: [{
        name,
        image,
        imagePullPolicy: g.image.pullPolicy,
        ports: [
          { name: 'http', containerPort: GRAFANA_PORT, protocol: 'TCP' },
          // Several pods: their Alertmanagers gossip over memberlist, on TCP and UDP.
          ...(several ? [
            { name: 'gossip-tcp', containerPort: GRAFANA_ALERTING_PORT, protocol: 'TCP' },
            { name: 'gossip-udp', containerPort: GRAFANA_ALERTING_PORT, protocol: 'UDP' },
          ] : []),
        ],
        // Only the __FILE variant of the password: run.sh exits when both it and GF_SECURITY_ADMIN_PASSWORD are
        // set. No emptyDir over the image's plugins-bundled directory: it would hide the bundled Loki and
        // Prometheus data source plugins (see grafanaSettingsEnvironment).
        env: [
          ...Object.entries({ GF_SECURITY_ADMIN_USER, GF_SECURITY_ADMIN_PASSWORD__FILE: passwordFile, ...settings, ...grafanaDatabaseEnvironment(g.postgres) })
            .map(([name, value]) => ({ name, value })),
          ...(postgres ? [{ name: GRAFANA_DATABASE_PASSWORD_VARIABLE, valueFrom: { secretKeyRef: { name: g.postgres.passwordSecret.name, key: g.postgres.passwordSecret.key } } }] : []),
          ...(databaseCa ? [{ name: 'GF_DATABASE_CA_CERT_PATH', value: GRAFANA_DATABASE_CA_FILE }] : []),
          // The key Grafana encrypts its database's secrets with (grafana.secretKeySecret); Grafana's public default without it.
          ...(g.secretKeySecret.name ? GRAFANA_SECRET_KEY_VARIABLES.map((n) => ({ name: n, valueFrom: { secretKeyRef: { name: g.secretKeySecret.name, key: g.secretKeySecret.key } } })) : []),
          // Several pods: alerting's HA, each pod on its own address (set first: the others refer to it).
          ...(several ? [
            { name: GRAFANA_POD_IP_VARIABLE, valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
            ...Object.entries(grafanaAlertingEnvironment(`${GRAFANA_ALERTING_SERVICE}.${ns}.svc.${clusterDomain}`, `${name}.${ns}`)).map(([n, value]) => ({ name: n, value })),
          ] : []),
        ],
        readinessProbe: httpProbe(GRAFANA_HEALTH_PATH, 'http', { periodSeconds: 10 }),
        // Like the Grafana chart: the first start migrates the database, give it a minute.
        livenessProbe: httpProbe(GRAFANA_HEALTH_PATH, 'http', { initialDelaySeconds: 60, periodSeconds: 10, timeoutSeconds: 30, failureThreshold: 10 }),
        resources: resourceRequirements(g.resources),
        securityContext: restrictedContainerSecurity(),
        volumeMounts: [
          dataMount,
          { name: 'datasources', mountPath: `${GRAFANA_PROVISIONING_DIR}/datasources`, readOnly: true },
          { name: 'dashboard-providers', mountPath: `${GRAFANA_PROVISIONING_DIR}/dashboards`, readOnly: true },
          { name: 'dashboards', mountPath: GRAFANA_DASHBOARDS_DIR, readOnly: true },
          // The root filesystem is read-only; plugin installs stage their zip files in /tmp.
          { name: 'tmp', mountPath: '/tmp' },
          ...(secret ? [{ name: GRAFANA_ADMIN_PASSWORD_VOLUME, mountPath: path.posix.dirname(GRAFANA_SECRET_PASSWORD_FILE), readOnly: true }] : []),
          ...(databaseCa ? [{ name: 'database-ca', mountPath: path.posix.dirname(GRAFANA_DATABASE_CA_FILE), readOnly: true }] : []),
          // A Loki of the user's behind basic auth: the password the Loki data source reads ($__file{…}).
          ...lokiPassword.volumeMounts,
        ],
      }],
      volumes: [
        pvc ? { name: 'data', persistentVolumeClaim: { claimName: pvc.name } } : { name: 'data', emptyDir: { sizeLimit: k8s.Quantity.fromString('256Mi') } },
        { name: 'datasources', configMap: { name: datasources.name } },
        { name: 'dashboard-providers', configMap: { name: providers.name } },
        { name: 'dashboards', configMap: { name: dashboards.name } },
        { name: 'tmp', emptyDir: { sizeLimit: k8s.Quantity.fromString('256Mi') } },
        ...(secret ? [{
          name: GRAFANA_ADMIN_PASSWORD_VOLUME,
          // Readable by Grafana's group (fsGroup 472) only.
          secret: { secretName: secret.name, items: [{ key: secret.key, path: path.posix.basename(GRAFANA_SECRET_PASSWORD_FILE) }], defaultMode: 0o440 },
        }] : []),
        ...(databaseCa ? [{
          name: 'database-ca',
          // Readable by Grafana's group (fsGroup 472) only.
          secret: { secretName: databaseCa.name, items: [{ key: databaseCa.key, path: path.posix.basename(GRAFANA_DATABASE_CA_FILE) }], defaultMode: 0o440 },
        }] : []),
        ...lokiPassword.volumes,
      ],
    });
    const deployment = new k8s.KubeDeployment(this, 'deployment', {
      metadata: { name, namespace: ns, labels },
      // On SQLite one pod owns the ReadWriteOnce volume (and the database on it) at a time; on PostgreSQL the
      // pods share nothing but the database: g.replicas of them, a new one ready before an old one goes.
      spec: postgres
        ? { ...singlePod, replicas: g.replicas, strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: k8s.IntOrString.fromNumber(0), maxSurge: k8s.IntOrString.fromNumber(1) } } }
        : singlePod,
    });
    applyPodSettingsTo(deployment, g);
    if (several) {
      // The pods' Alertmanagers find each other through it (not-ready pods too).
      peersService(this, 'alerting', {
        name: GRAFANA_ALERTING_SERVICE, namespace: ns, labels, component: name,
        ports: [{ name: 'gossip-tcp', port: GRAFANA_ALERTING_PORT, protocol: 'TCP' }, { name: 'gossip-udp', port: GRAFANA_ALERTING_PORT, protocol: 'UDP' }],
      });
      oneAtATimeBudget(this, 'disruption-budget', { name, namespace: ns, labels });
    }

    // On kind, expose the UI on the host with a NodePort and a port mapping in the kind cluster config:
    //   nodes: [{role: control-plane, extraPortMappings: [{containerPort: 30300, hostPort: 3000, listenAddress: "127.0.0.1"}]}]
    // (containerPort must equal grafana.service.nodePort). Or, with any type:
    //   kubectl -n monitoring port-forward svc/grafana 3000:3000
    const nodePort = g.service.type === 'NodePort';
    new k8s.KubeService(this, 'service', {
      metadata: { name, namespace: ns, labels },
      spec: {
        type: g.service.type,
        selector: selectorLabels(name),
        ports: [{
          name: 'http',
          port: GRAFANA_PORT,
          targetPort: k8s.IntOrString.fromString('http'),
          protocol: 'TCP',
          ...(nodePort ? { nodePort: g.service.nodePort } : {}),
        }],
      },
    });
  }
}
