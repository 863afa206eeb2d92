// instrumentation.ts on its own: when requests are recorded (once per event-loop turn, or on flush()),
// what each record holds, and which requests are skipped. Requests and responses are stand-ins here;
// app.test.ts covers the same behaviour over real HTTP.
import { EventEmitter } from 'node:events';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { instrumentRequests, recordError, type AnsweredRequest, type RequestRecorder } from '../../app/src/instrumentation';

interface FakeResponse extends EventEmitter {
  statusCode: number;
  headers: Record<string, string>;
  setHeader(name: string, value: string): void;
}

function fakeRequest(url: string, routePath: string | undefined, headers: Record<string, string> = {}): IncomingMessage {
  // What Express leaves on the request: the matched route (if any), baseUrl and originalUrl.
  return { method: 'GET', url, originalUrl: url, baseUrl: '', route: routePath === undefined ? undefined : { path: routePath }, headers } as unknown as IncomingMessage;
}

function fakeResponse(): FakeResponse {
  const res = new EventEmitter() as FakeResponse;
  res.statusCode = 200;
  res.headers = {};
  res.setHeader = (name, value) => void (res.headers[name] = value);
  return res;
}

/** An instrumented stand-in app that answers at once with `status`; returns the records and the listener. */
function setUp(unrecordedRoutes?: ReadonlySet<string>, before: RequestRecorder[] = [], onRecorderError?: (err: unknown) => void) {
  const records: AnsweredRequest[] = [];
  const instrumentation = instrumentRequests({ recorders: [...before, (r) => records.push(r)], unrecordedRoutes, onRecorderError });
  const app: RequestListener = () => undefined;
  const listener = instrumentation.wrap(app);
  const serve = (req: IncomingMessage, status = 200): FakeResponse => {
    const res = fakeResponse();
    listener(req, res as unknown as ServerResponse);
    res.statusCode = status;
    return res;
  };
  return { records, instrumentation, serve };
}

test('requests are recorded once the event-loop turn ends, in the order they finished', async () => {
  const { records, serve } = setUp();
  const first = serve(fakeRequest('/api/items/1', '/api/items/:id'));
  const second = serve(fakeRequest('/nope', undefined), 404);
  second.emit('finish');
  first.emit('finish');
  expect(records).toEqual([]);
  await new Promise((resolve) => setImmediate(resolve));
  expect(records.map((r) => [r.url, r.route, r.status])).toEqual([
    ['/nope', 'unmatched', 404],
    ['/api/items/1', '/api/items/:id', 200],
  ]);
});

test('flush() records the queue at once, and only once', async () => {
  const { records, instrumentation, serve } = setUp();
  serve(fakeRequest('/', '/')).emit('finish');
  instrumentation.flush();
  expect(records).toHaveLength(1);
  await new Promise((resolve) => setImmediate(resolve));
  instrumentation.flush();
  expect(records).toHaveLength(1);
});

test('the duration is taken when the response finishes, not when it is recorded', async () => {
  const { records, instrumentation, serve } = setUp();
  const res = serve(fakeRequest('/', '/'));
  await sleep(50);
  res.emit('finish');
  await sleep(300);
  instrumentation.flush();
  expect(records[0].seconds).toBeGreaterThanOrEqual(0.045);
  expect(records[0].seconds).toBeLessThan(0.3);
});

test('a response that never finishes (the client went away) is not recorded', async () => {
  const { records, serve } = setUp();
  serve(fakeRequest('/', '/')).emit('close');
  await sleep(10);
  expect(records).toEqual([]);
});

test('every response gets X-Request-Id: a safe incoming one is kept, anything else replaced by a UUID', async () => {
  const { records, instrumentation, serve } = setUp();
  const kept = serve(fakeRequest('/', '/', { 'x-request-id': 'abc-1.2:3_4' }));
  const replaced = serve(fakeRequest('/', '/', { 'x-request-id': 'a b' }));
  const made = serve(fakeRequest('/', '/'));
  const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
  expect(kept.headers['X-Request-Id']).toBe('abc-1.2:3_4');
  expect(replaced.headers['X-Request-Id']).toMatch(uuid);
  expect(made.headers['X-Request-Id']).toMatch(uuid);
  expect(made.headers['X-Request-Id']).not.toBe(replaced.headers['X-Request-Id']);
  for (const res of [kept, replaced, made]) res.emit('finish');
  instrumentation.flush();
  expect(records.map((r) => r.requestId)).toEqual([kept, replaced, made].map((res) => res.headers['X-Request-Id']));
});

test('requests to the unrecorded routes are skipped; an unmatched path that looks like one is not', () => {
  const { records, instrumentation, serve } = setUp(new Set(['/healthz', '/metrics']));
  serve(fakeRequest('/healthz?verbose', '/healthz')).emit('finish');
  serve(fakeRequest('/metrics', '/metrics')).emit('finish');
  serve(fakeRequest('/metrics/extra', undefined), 404).emit('finish');
  instrumentation.flush();
  expect(records.map((r) => [r.url, r.route])).toEqual([['/metrics/extra', 'unmatched']]);
});

test('an error passed to recordError reaches the record of a 5xx answer only', () => {
  const { records, instrumentation, serve } = setUp();
  const failure = new Error('boom');
  const failed = serve(fakeRequest('/', '/'), 500);
  recordError(failed as unknown as ServerResponse, failure);
  const handled = serve(fakeRequest('/', '/'), 400);
  recordError(handled as unknown as ServerResponse, new Error('bad input'));
  failed.emit('finish');
  handled.emit('finish');
  instrumentation.flush();
  expect(records.map((r) => [r.status, r.err])).toEqual([
    [500, failure],
    [400, undefined],
  ]);
});

test('a recorder that throws costs nobody else a request: the other recorders get the whole batch', () => {
  const failures: unknown[] = [];
  const failing: RequestRecorder = (r) => {
    if (r.url === '/first') throw new Error('broken recorder');
  };
  const { records, instrumentation, serve } = setUp(undefined, [failing], (err) => failures.push(err));
  for (const url of ['/first', '/second', '/third']) serve(fakeRequest(url, '/')).emit('finish');
  expect(() => instrumentation.flush()).not.toThrow();
  expect(records.map((r) => r.url)).toEqual(['/first', '/second', '/third']);
  expect(failures.map((e) => (e as Error).message)).toEqual(['broken recorder']);
});

test('by default a failing recorder is reported once, as a process warning', () => {
  const warnings: string[] = [];
  const emit = jest.spyOn(process, 'emitWarning').mockImplementation((w) => void warnings.push(String(w)));
  try {
    const { records, instrumentation, serve } = setUp(undefined, [() => { throw new Error('always'); }]);
    for (let i = 0; i < 3; i++) serve(fakeRequest('/', '/')).emit('finish');
    instrumentation.flush();
    expect(records).toHaveLength(3);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('a request recorder failed (reported once): Error: always');
  } finally {
    emit.mockRestore();
  }
});
