import type { Request } from 'express';

/** The `route` value of requests that matched no route (unknown paths, unsupported methods). */
export const UNMATCHED = 'unmatched';

/**
 * The matched route template, e.g. `/api/items/:id`, never the raw path: it keeps metric labels
 * low-cardinality. Read it when the response finishes; Express sets `req.route` on match.
 *
 * Express restores `req.baseUrl` when an error leaves a mounted router, so this app registers its
 * routes on the app itself (`baseUrl` is then always '') and the template stays right for 500s too.
 */
export function matchedRoute(req: Request): string {
  const path: unknown = req.route?.path;
  return typeof path === 'string' ? req.baseUrl + path : UNMATCHED;
}
