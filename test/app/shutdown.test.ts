// SIGTERM under load, against the real entry point in a child process: readiness turns false during the
// grace delay, every request accepted before the signal gets its answer, and the process exits 0.
import * as http from 'node:http';
import { performance } from 'node:perf_hooks';
import { request, startServerProcess } from './helpers';

const SHUTDOWN_DELAY_MS = 1000;
const LATENCY_MS = 100; // each request takes 50–150 ms, so many are in flight at the signal

interface Outcome {
  readonly startedAt: number;
  status?: number;
  connection?: string;
  error?: string;
}

test('SIGTERM under load: readiness 503 during the grace delay, no accepted request lost, exit code 0', async () => {
  const { child, port, lines, seenAt, exited } = await startServerProcess({
    APP_LATENCY_MS: String(LATENCY_MS), APP_ERROR_RATE: '0', APP_SHUTDOWN_DELAY_MS: String(SHUTDOWN_DELAY_MS),
  });
  const url = `http://127.0.0.1:${port}`;
  const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
  const outcomes: Outcome[] = [];
  let inFlight = 0;
  let stopped = false;
  let signalAt = Infinity;
  let exitedAt = Infinity;
  void exited.then(() => (exitedAt = performance.now()));

  // 16 clients, each sending GET / back to back over keep-alive, until the listener is gone.
  const client = async (): Promise<void> => {
    while (!stopped) {
      const outcome: Outcome = { startedAt: performance.now() };
      outcomes.push(outcome);
      inFlight++;
      try {
        const res = await request(`${url}/`, { agent });
        outcome.status = res.status;
        outcome.connection = res.headers.connection;
      } catch (err) {
        outcome.error = (err as NodeJS.ErrnoException).code ?? String(err);
        if (outcome.error === 'ECONNREFUSED') stopped = true;
      } finally {
        inFlight--;
      }
    }
  };
  // A readiness probe every 50 ms on a fresh connection, as the kubelet does.
  const readiness: Array<{ at: number; status: number }> = [];
  const prober = async (): Promise<void> => {
    while (!stopped) {
      try {
        readiness.push({ at: performance.now(), status: (await request(`${url}/readyz`)).status });
      } catch {
        // refused once the listener is closed
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };

  const load = Promise.all([...Array.from({ length: 16 }, client), prober()]);
  await new Promise((resolve) => setTimeout(resolve, 600));
  const inFlightAtSignal = inFlight;
  signalAt = performance.now();
  child.kill('SIGTERM');

  const code = await exited;
  stopped = true;
  await load;
  agent.destroy();

  expect(code).toBe(0);
  expect(inFlightAtSignal).toBeGreaterThan(0);

  // Every request sent before the signal, those in flight at that moment included, got a 200.
  const before = outcomes.filter((o) => o.startedAt < signalAt);
  expect(before.length).toBeGreaterThan(50);
  expect(before.filter((o) => o.status !== 200)).toEqual([]);

  // During the grace delay the app kept serving; afterwards the only failures are connections the closed
  // listener refused (or a reused idle connection it had just closed).
  const after = outcomes.filter((o) => o.startedAt >= signalAt);
  const answered = after.filter((o) => o.status !== undefined);
  expect(answered.length).toBeGreaterThan(0);
  expect(answered.filter((o) => o.status !== 200)).toEqual([]);
  expect(after.filter((o) => o.status === undefined && !['ECONNREFUSED', 'ECONNRESET'].includes(o.error!))).toEqual([]);
  // Every request sent once the app had logged that shutdown started was answered with Connection: close.
  // (A request sent between kill() and the app handling the signal may still get keep-alive: the signal
  // reaches the app's event loop some time after kill() returns.)
  const shutdownSeenAt = seenAt.get('shutdown started, readiness is now false')!;
  expect(shutdownSeenAt).toBeGreaterThan(signalAt);
  const afterShutdown = answered.filter((o) => o.startedAt >= shutdownSeenAt);
  expect(afterShutdown.length).toBeGreaterThan(0);
  expect(afterShutdown.filter((o) => o.connection !== 'close')).toEqual([]);

  // Readiness: 200 before the signal, 503 during the grace delay.
  expect(readiness.filter((r) => r.at < signalAt).every((r) => r.status === 200)).toBe(true);
  // From the moment the app logged it (not from kill(): the signal takes a moment to arrive) until the listener closes.
  const during = readiness.filter((r) => r.at > shutdownSeenAt && r.at < signalAt + SHUTDOWN_DELAY_MS - 100);
  expect(during.length).toBeGreaterThan(0);
  expect(during.every((r) => r.status === 503)).toBe(true);
  expect(exitedAt - signalAt).toBeGreaterThanOrEqual(SHUTDOWN_DELAY_MS);

  expect(lines.map((l) => l.msg)).toEqual(
    expect.arrayContaining(['shutdown started, readiness is now false', 'closing the listener, waiting for in-flight requests', 'shutdown complete']),
  );
  expect(lines.at(-1)!.msg).toBe('shutdown complete');
  // Every answered request has its log line, the last ones included (the app records requests once per
  // event-loop turn and flushes before it says "shutdown complete").
  const requestLines = lines.filter((l) => l.msg === 'request completed' && l.route === '/');
  expect(requestLines).toHaveLength(outcomes.filter((o) => o.status === 200).length);
});
