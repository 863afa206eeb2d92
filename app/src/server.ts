// Entry point: read the environment, serve the app, shut down gracefully on SIGTERM/SIGINT.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApp } from './app';
import { loadAppConfig, type AppConfig } from './config';
import { createLogger } from './logger';

function main(): void {
  let config: AppConfig;
  try {
    config = loadAppConfig();
  } catch (err) {
    createLogger().fatal((err as Error).message);
    process.exitCode = 1;
    return;
  }
  const logger = createLogger({ level: config.logLevel });
  const demo = createApp({ latencyMs: config.latencyMs, errorRate: config.errorRate, logger });
  const server = createServer(demo.listener);

  server.on('error', (err) => {
    logger.fatal({ err }, 'server error');
    process.exit(1);
  });
  server.listen(config.port, () => {
    const { port } = server.address() as AddressInfo;
    logger.info({ port, latency_ms: config.latencyMs, error_rate: config.errorRate }, 'listening');
  });

  /**
   * 1. Readiness turns false and responses get `Connection: close`, while the app keeps serving for
   *    APP_SHUTDOWN_DELAY_MS, so the endpoints controller can take the pod out of the Service first.
   * 2. The listener closes; in-flight requests finish; idle keep-alive connections are closed.
   * 3. Exit 0 once the last connection is gone.
   */
  let stopping = false;
  const shutdown = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal, delay_ms: config.shutdownDelayMs }, 'shutdown started, readiness is now false');
    demo.beginShutdown();
    setTimeout(() => {
      logger.info('closing the listener, waiting for in-flight requests');
      // Node closes idle connections at close() but not those that become idle later (before their
      // keep-alive timeout): sweep until the last one is gone.
      const sweep = setInterval(() => server.closeIdleConnections(), 100);
      server.close((err) => {
        clearInterval(sweep);
        if (err) logger.error({ err }, 'error while closing the server');
        logger.info('shutdown complete');
        process.exit(err ? 1 : 0);
      });
      server.closeIdleConnections();
    }, config.shutdownDelayMs);
  };
  // `once`: a second Ctrl-C during the grace delay kills the process the default way.
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
}

main();
