import { loadAppConfig, loadTrafficConfig } from '../../app/src/config';
import { parseStackConfig } from '../../lib/config';

describe('loadAppConfig', () => {
  test('defaults', () => {
    expect(loadAppConfig({})).toEqual({ port: 8080, latencyMs: 50, errorRate: 0.05, shutdownDelayMs: 5000, logLevel: 'info' });
  });

  test('its defaults are the stack model\'s: the app run alone behaves as the deployed one', () => {
    const app = parseStackConfig({}).app;
    expect(loadAppConfig({})).toMatchObject({ port: app.port, latencyMs: app.latencyMs, errorRate: app.errorRate });
  });

  test('reads every variable; blank counts as unset', () => {
    expect(
      loadAppConfig({ PORT: '0', APP_LATENCY_MS: '0', APP_ERROR_RATE: '0.5', APP_SHUTDOWN_DELAY_MS: ' 250 ', LOG_LEVEL: 'debug' }),
    ).toEqual({ port: 0, latencyMs: 0, errorRate: 0.5, shutdownDelayMs: 250, logLevel: 'debug' });
    expect(loadAppConfig({ PORT: '' }).port).toBe(8080);
  });

  test.each([
    [{ PORT: '80a' }, 'PORT must be an integer from 0 to 65535, got "80a"'],
    [{ PORT: '70000' }, 'PORT must be an integer from 0 to 65535, got "70000"'],
    [{ APP_LATENCY_MS: '-5' }, 'APP_LATENCY_MS must be an integer from 0 to 60000, got "-5"'],
    [{ APP_LATENCY_MS: '1.5' }, 'APP_LATENCY_MS must be an integer from 0 to 60000, got "1.5"'],
    [{ APP_ERROR_RATE: '1.5' }, 'APP_ERROR_RATE must be a number from 0 to 1, got "1.5"'],
    [{ APP_ERROR_RATE: '5%' }, 'APP_ERROR_RATE must be a number from 0 to 1, got "5%"'],
    [{ APP_SHUTDOWN_DELAY_MS: 'soon' }, 'APP_SHUTDOWN_DELAY_MS must be an integer from 0 to 600000, got "soon"'],
    [{ LOG_LEVEL: 'verbose' }, 'LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent, got "verbose"'],
  ])('throws if %j', (env, message) => {
    expect(() => loadAppConfig(env)).toThrow(new Error(message));
  });
});

describe('loadTrafficConfig', () => {
  test('defaults', () => {
    expect(loadTrafficConfig({})).toEqual({
      targetUrl: 'http://localhost:8080',
      rps: 5,
      concurrency: 10,
      summaryIntervalMs: 10000,
      timeoutMs: 5000,
      healthPort: 8081,
      logLevel: 'info',
    });
  });

  test('reads every variable; a trailing slash on the URL is dropped', () => {
    expect(
      loadTrafficConfig({
        TRAFFIC_TARGET_URL: 'http://demo-app:8080/',
        TRAFFIC_RPS: '0.5',
        TRAFFIC_CONCURRENCY: '3',
        TRAFFIC_SUMMARY_INTERVAL_MS: '1000',
        TRAFFIC_TIMEOUT_MS: '200',
        TRAFFIC_HEALTH_PORT: '9999',
        LOG_LEVEL: 'warn',
      }),
    ).toEqual({ targetUrl: 'http://demo-app:8080', rps: 0.5, concurrency: 3, summaryIntervalMs: 1000, timeoutMs: 200, healthPort: 9999, logLevel: 'warn' });
  });

  test.each([
    [{ TRAFFIC_TARGET_URL: 'demo-app:8080' }, 'TRAFFIC_TARGET_URL must be an http:// or https:// URL, got "demo-app:8080"'],
    [{ TRAFFIC_TARGET_URL: 'not a url' }, 'TRAFFIC_TARGET_URL must be an http:// or https:// URL, got "not a url"'],
    [{ TRAFFIC_RPS: '0' }, 'TRAFFIC_RPS must be a number greater than 0 and at most 10000, got "0"'],
    [{ TRAFFIC_RPS: 'fast' }, 'TRAFFIC_RPS must be a number greater than 0 and at most 10000, got "fast"'],
    [{ TRAFFIC_CONCURRENCY: '0' }, 'TRAFFIC_CONCURRENCY must be an integer from 1 to 1000, got "0"'],
    [{ TRAFFIC_HEALTH_PORT: '70000' }, 'TRAFFIC_HEALTH_PORT must be an integer from 0 to 65535, got "70000"'],
  ])('throws if %j', (env, message) => {
    expect(() => loadTrafficConfig(env)).toThrow(new Error(message));
  });
});
