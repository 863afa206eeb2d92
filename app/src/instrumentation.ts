// One timer and one 'finish' listener per request, shared by everything that records requests (the
// metrics and the request log), so they agree on each request's duration and the per-request cost stays
// small. The request handlers know nothing about it: app.ts mounts it in front of them.
import { performance } from 'node:perf_hooks';
import type { Request, RequestHandler, Response } from 'express';

/** Something that records answered requests: telemetry.ts's metrics, logger.ts's request log. */
export interface RequestRecorder {
  /** Called when the request arrives, before any handler (e.g. to set a response header). */
  start?(req: Request, res: Response): void;
  /** Called once the response has been handed to the OS, with the request's duration in seconds. */
  finish(req: Request, res: Response, seconds: number): void;
}

export function instrumentRequests(recorders: readonly RequestRecorder[]): RequestHandler {
  return (req, res, next) => {
    const start = performance.now();
    for (const recorder of recorders) recorder.start?.(req, res);
    res.once('finish', () => {
      const seconds = (performance.now() - start) / 1000;
      for (const recorder of recorders) recorder.finish(req, res, seconds);
    });
    next();
  };
}
