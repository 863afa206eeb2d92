/** The demo app, built from app/, and its traffic generator (an optional profile). */
import { StackConfig } from '../config';
import { imageString } from '../images';
import { ComposeServiceEntry } from './compose-types';
import { composeContainerName, composeServiceName } from './names';
import { hardenedService, healthcheck, loopbackPort, nodeFetchCheck, resourceLimits } from './service-defaults';
import { APP_HEALTH_PATH, APP_READY_PATH, APP_UID, appEnvironment, TRAFFIC_COMMAND, TRAFFIC_HEALTH_PORT } from '../components/app';

/** The compose profile that starts the traffic generator: `docker compose --profile traffic up -d`. */
export const TRAFFIC_PROFILE = 'traffic';
/** The app's build context, relative to compose/. */
export const APP_BUILD_CONTEXT = '../app';

export function composeAppService(c: StackConfig): ComposeServiceEntry {
  const name = composeServiceName(c, 'app');
  return {
    name,
    namedVolumes: [],
    comment: [
      `The demo app, built from app/ and tagged ${imageString(c.app.image)} (the tag Kubernetes runs). Published on`,
      'loopback for the tutorial\'s curl and /metrics. Node image, no curl or wget: `node -e` fetch checks /readyz.',
    ].join('\n'),
    service: {
      image: imageString(c.app.image),
      build: { context: APP_BUILD_CONTEXT },
      container_name: composeContainerName(c, name),
      user: String(APP_UID),
      environment: appEnvironment(c.app),
      ports: [loopbackPort(c.compose.ports.app, c.app.port)],
      tmpfs: ['/tmp:size=64m'],
      healthcheck: healthcheck(nodeFetchCheck(`http://127.0.0.1:${c.app.port}${APP_READY_PATH}`), { startPeriodSeconds: 10 }),
      ...hardenedService(),
      // Longer than the app's shutdown delay (5 s) plus its slowest request.
      stop_grace_period: '30s',
      deploy: resourceLimits(c.app.resources),
    },
  };
}

export function composeTrafficService(c: StackConfig): ComposeServiceEntry {
  const name = composeServiceName(c, 'traffic');
  const app = composeServiceName(c, 'app');
  const target = `http://${app}:${c.app.port}`;
  return {
    name,
    namedVolumes: [],
    comment: [
      `Traffic generator (optional): \`docker compose --profile ${TRAFFIC_PROFILE} up -d\`. Same image as the app, started after`,
      'the app is healthy. Its healthcheck asks its own /healthz (200 while it sends traffic), as the Kubernetes probes do.',
      'It has `build` too, so compose builds the image instead of trying to pull it when this profile starts first.',
    ].join('\n'),
    service: {
      image: imageString(c.app.image),
      build: { context: APP_BUILD_CONTEXT },
      container_name: composeContainerName(c, name),
      profiles: [TRAFFIC_PROFILE],
      command: TRAFFIC_COMMAND,
      user: String(APP_UID),
      environment: {
        TRAFFIC_TARGET_URL: target,
        TRAFFIC_RPS: String(c.app.trafficGenerator.requestsPerSecond),
        TRAFFIC_HEALTH_PORT: String(TRAFFIC_HEALTH_PORT),
      },
      depends_on: { [app]: { condition: 'service_healthy' } },
      healthcheck: healthcheck(nodeFetchCheck(`http://127.0.0.1:${TRAFFIC_HEALTH_PORT}${APP_HEALTH_PATH}`), { startPeriodSeconds: 10, intervalSeconds: 30 }),
      ...hardenedService(),
      deploy: resourceLimits(c.app.trafficGenerator.resources),
    },
  };
}
