/**
 * The Alertmanager service: the same image, flags, config file (rendered by renderAlertmanagerConfig) and
 * data path as on Kubernetes. Each receiver's secret is a file the person writes under
 * compose/alertmanager/secrets/ (git ignores it; synthesis keeps it), mounted as a compose secret. A file
 * secret, not an environment one: compose copies an environment secret into the container's root
 * filesystem, which read_only forbids (docker/compose#12303), while a file secret is a read-only bind mount.
 */
import { StackConfig } from '../config';
import { imageString } from '../images';
import { ALERTMANAGER_SECRET_FILES, ALERTMANAGER_CONFIG_FILE, ALERTMANAGER_DATA_DIR, ALERTMANAGER_IMAGE_FACTS, ALERTMANAGER_PORT, ALERTMANAGER_READY_PATH, ALERTMANAGER_SECRETS_DIR, alertmanagerFlags } from '../components/alertmanager';
import { alertmanagerSecrets } from '../render/alertmanager-config';
import { ComposeServiceEntry } from './compose-types';
import { COMPOSE_FILES } from './config-files';
import { composeContainerName, composeServiceName } from './names';
import { configMount, hardenedService, healthcheck, resourceLimits, wgetCheck } from './service-defaults';

/** A receiver's secret file (a name of ALERTMANAGER_SECRET_FILES), relative to compose/. */
export function composeSecretFile(name: string): string {
  return `${COMPOSE_FILES.alertmanagerSecretsDir}/${name}`;
}

/** Every receiver's secret file, relative to compose/: written by the person, kept by synthesis. */
export const COMPOSE_SECRET_FILES: readonly string[] = Object.values(ALERTMANAGER_SECRET_FILES).map(composeSecretFile);

/** The receivers' secret files under compose/ that the settings use: path relative to compose/ → compose secret name. */
export function composeAlertmanagerSecretFiles(c: StackConfig): Array<{ name: string; file: string; target: string }> {
  return alertmanagerSecrets(c.alertmanager).map((s) => ({
    name: `alertmanager-${s.file}`,
    file: composeSecretFile(s.file),
    target: `${ALERTMANAGER_SECRETS_DIR}/${s.file}`,
  }));
}

export function composeAlertmanagerService(c: StackConfig): ComposeServiceEntry {
  const name = composeServiceName(c, 'alertmanager');
  const volume = 'alertmanager-data';
  const secrets = composeAlertmanagerSecretFiles(c);
  return {
    name,
    namedVolumes: [volume],
    secrets: Object.fromEntries(secrets.map((s) => [s.name, `./${s.file}`])),
    comment: [
      'Alertmanager: Prometheus sends it alerts; it notifies the receivers of alertmanager/alertmanager.yml.',
      'Receivers\' secrets are files in compose/alertmanager/secrets/ (see compose/README.md), mounted read-only.',
      'Not published: Grafana shows its alerts and silences. Runs as nobody (65534); busybox wget checks /-/ready.',
    ].join('\n'),
    service: {
      image: imageString(c.alertmanager.image),
      container_name: composeContainerName(c, name),
      command: alertmanagerFlags(),
      user: `${ALERTMANAGER_IMAGE_FACTS.user.uid}:${ALERTMANAGER_IMAGE_FACTS.user.gid}`,
      volumes: [
        configMount(COMPOSE_FILES.alertmanagerConfig, ALERTMANAGER_CONFIG_FILE),
        `${volume}:${ALERTMANAGER_DATA_DIR}`,
      ],
      ...(secrets.length > 0 ? { secrets: secrets.map((s) => ({ source: s.name, target: s.target })) } : {}),
      healthcheck: healthcheck(wgetCheck(`http://127.0.0.1:${ALERTMANAGER_PORT}${ALERTMANAGER_READY_PATH}`), { startPeriodSeconds: 10 }),
      ...hardenedService(),
      deploy: resourceLimits(c.alertmanager.resources),
    },
  };
}
