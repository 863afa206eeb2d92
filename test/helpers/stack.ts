/** Synthesizes a stack in memory and returns its Kubernetes objects, in file order. */
import * as fs from 'fs';
import * as path from 'path';
import { parse, parseAllDocuments } from 'yaml';
import { parseStackConfig, renderManifests, StackInput } from '../../lib';

export function synthObjects(input: StackInput = {}): any[] {
  const objects: any[] = [];
  for (const content of renderManifests(parseStackConfig(input)).values()) {
    for (const doc of parseAllDocuments(content)) {
      const value = doc.toJS();
      if (value) objects.push(value);
    }
  }
  return objects;
}

/** The one object of a kind and name; throws naming what is missing. */
export function find(objects: any[], kind: string, name: string, namespace?: string): any {
  const hits = objects.filter((o) => o.kind === kind && o.metadata?.name === name && (namespace === undefined || o.metadata?.namespace === namespace));
  if (hits.length !== 1) throw new Error(`expected one ${kind}/${name}, found ${hits.length}`);
  return hits[0];
}

/** Pod templates of every workload. */
export function workloads(objects: any[]): any[] {
  return objects.filter((o) => ['Deployment', 'StatefulSet', 'DaemonSet', 'Job'].includes(o.kind));
}

/** A customised stack exercising most settings (used by snapshots and validation tests). */
/** Alertmanager with every receiver on, each secret from a Secret of its own (files on compose). */
export const EVERY_RECEIVER_INPUT: StackInput = {
  alertmanager: { receivers: {
    webhook: { enabled: true, urlSecret: { name: 'alert-webhook' } },
    slack: { enabled: true, apiUrlSecret: { name: 'alert-slack' } },
    email: { enabled: true, to: 'a@example.com', from: 'b@example.com', smarthost: 'smtp.example.com:587', authUsername: 'b', authPasswordSecret: { name: 'alert-smtp' } },
  } },
};

/** Three Loki pods on an S3 bucket: one ring over memberlist, a StatefulSet with a claim each. */
export const LOKI_RING_INPUT: StackInput = {
  loki: {
    replicas: 3,
    storage: { size: '20Gi', s3: { enabled: true, since: '2027-01-01', endpoint: 's3.eu-west-1.amazonaws.com', bucket: 'loki-chunks', region: 'eu-west-1', credentialsSecret: { name: 'loki-s3' } } },
  },
};

/** A Loki of the user's, with a tenant and basic auth (the password from the Secret loki-gateway). */
export const LOKI_BASIC_AUTH_INPUT: StackInput = {
  loki: { enabled: false, external: { url: 'https://logs.example.com', tenant: 'team-a', basicAuth: { username: '123456', passwordSecret: { name: 'loki-gateway', key: 'token' } } } },
};

export const CUSTOM_INPUT: StackInput = {
  namespace: 'observability',
  clusterDomain: 'cluster.example',
  app: {
    name: 'shop',
    namespace: 'shop',
    image: { repository: 'registry.example.com/shop', tag: '2.4.1', pullPolicy: 'Always' },
    replicas: 2,
    port: 9000,
    metricsPath: '/internal/metrics',
    trafficGenerator: { enabled: false },
    serviceMonitor: { enabled: true, labels: { release: 'kube-prometheus-stack' } },
  },
  prometheus: {
    scrapeIntervalSeconds: 30,
    scrapeTimeoutSeconds: 20,
    retentionDays: 30,
    retentionSize: '40GB',
    storage: { size: '50Gi', storageClassName: 'fast-ssd' },
    remoteWrite: [{ name: 'mimir', url: 'https://mimir.example.com/api/v1/push' }],
    prometheusRule: { enabled: true },
  },
  grafana: { service: { type: 'NodePort', nodePort: 30300 }, adminPasswordSecret: { name: 'grafana-admin', key: 'password' } },
};

/**
 * The pod settings on every component and commonLabels, as the chart's scenario 12 sets them (its keys are the
 * model's): one source for the cdk8s, compose and Helm tests of those settings.
 */
export function podSettingsInput(): StackInput {
  const file = path.join(__dirname, '..', '..', 'charts', 'observability-stack', 'ci', '12-pod-settings-values.yaml');
  return parse(fs.readFileSync(file, 'utf8')) as StackInput;
}
