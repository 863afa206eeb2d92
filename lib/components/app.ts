/**
 * The demo application (built from app/) and its traffic generator: every fact of how they run, in one place
 * (lib/k8s/app.ts, lib/compose/app.ts and the chart read them from here).
 */
import type { AppSettings } from '../config';
import { DEBIAN_BASE_TOOLS, ImageFacts } from '../image-facts';
import type { ImageRef } from '../images';
import type { IngressFrom } from '../network-access';


/** The demo application, built locally from app/ (`docker build -t demo-app:0.1.0 app/`). */
export const APP_IMAGE: ImageRef = { repository: 'demo-app', tag: '0.1.0' };

/** The app's readiness (200 while it takes requests) and liveness paths. */
export const APP_READY_PATH = '/readyz';
export const APP_HEALTH_PATH = '/healthz';
/** The traffic generator: the same image, another command, and a /healthz of its own on this port. */
export const TRAFFIC_COMMAND = ['node', 'build/traffic.js'];
export const TRAFFIC_HEALTH_PORT = 8081;
/** Who may open the app's port (lib/network-access.ts): anyone, as any service's users do (the traffic generator, Prometheus's scrape, people). The traffic generator's own port stays closed: only the kubelet's probes use it. */
export const APP_INGRESS_FROM: IngressFrom = 'anyone';

/** The variables the stack sets in the app's container (extraEnv may not set them). */
export const APP_ENVIRONMENT_NAMES = ['PORT', 'APP_LATENCY_MS', 'APP_ERROR_RATE'] as const;

/** The app's environment, the same in every rendering. */
export function appEnvironment(app: Pick<AppSettings, 'port' | 'latencyMs' | 'errorRate'>): Record<(typeof APP_ENVIRONMENT_NAMES)[number], string> {
  return {
    PORT: String(app.port),
    APP_LATENCY_MS: String(app.latencyMs),
    APP_ERROR_RATE: String(app.errorRate),
  };
}

/** The demo app's image (app/Dockerfile): node:22.21.1-bookworm-slim, USER 1000 (`node`), files root-owned. */
export const APP_IMAGE_FACTS: ImageFacts = {
  image: APP_IMAGE,
  sources: [
    'app/Dockerfile in this repository (WORKDIR /app, USER 1000, CMD node build/server.js)',
    'nodejs/docker-node@bf78d76 22/bookworm-slim/Dockerfile (useradd --uid 1000 --gid node node; ENTRYPOINT docker-entrypoint.sh; curl and wget purged)',
  ],
  user: { written: '1000', uid: 1000, gid: 1000, source: 'app/Dockerfile USER 1000; docker-node: groupadd --gid 1000 node, useradd --uid 1000 --gid node' },
  workdir: '/app',
  entrypoint: ['docker-entrypoint.sh'],
  cmd: ['node', 'build/server.js'],
  env: { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' },
  directories: [{ path: '/tmp', uid: 0, gid: 0, mode: 0o1777 }],
  executables: ['/usr/local/bin/node', '/usr/local/bin/nodejs', '/usr/local/bin/docker-entrypoint.sh', '/usr/local/bin/npm', ...DEBIAN_BASE_TOOLS],
  programs: [
    // The app and the traffic generator write no file (no fs use in app/src; logs go to stdout).
    { executable: 'docker-entrypoint.sh', writes: [], reads: [], source: 'app/src: no file writes; docker-entrypoint.sh execs its arguments' },
    { executable: 'node', writes: [], reads: [], source: 'app/src: no file writes' },
  ],
};

/** uid of the `node` user in the app's image. */
export const APP_UID = APP_IMAGE_FACTS.user.uid;
