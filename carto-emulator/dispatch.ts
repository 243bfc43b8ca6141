// The single entry point of every request: route, resolve the account, parse params, authenticate, then handle.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { authenticate } from './authentication';
import type { Account, Catalog } from './catalog';
import { sendJson, sendRoutingNotFound } from './http-responses';
import { queryParams, readParamsBody, type Params } from './request-params';
import { matchRoute, type RouteMatch, type RouteName } from './routes';

export interface RequestContext {
  req: IncomingMessage;
  res: ServerResponse;
  route: RouteMatch;
  /** The account the URL addresses (always set for account routes). */
  account: Account | undefined;
  /** Query parameters, merged with the body's for account routes whose body is params. */
  params: Params;
  /** Who the master key proves the caller to be; undefined means anonymous. */
  viewer: Account | undefined;
}

export type RouteHandler = (context: RequestContext) => Promise<void>;

/**
 * How a handler wants its body read before authentication: `params` merges a JSON/form body (api_key may be there),
 * `custom` leaves the stream to the handler (uploads), which must authenticate itself with `authenticateContext`.
 */
export interface RouteBinding {
  handle: RouteHandler;
  body: 'params' | 'custom';
}

/**
 * Wraps the handling of a matched route. It may answer instead (an injected 5xx or 429), wait before calling
 * `proceed` (a slow server), or wrap `res` (truncated bodies, resets). The hook for fault injection.
 */
export type Interceptor = (
  route: RouteMatch,
  req: IncomingMessage,
  res: ServerResponse,
  proceed: () => Promise<void>,
) => Promise<void>;

export function createDispatcher(options: {
  catalog: Catalog;
  routes: Record<RouteName, RouteBinding>;
  interceptor?: Interceptor;
  onError?: (error: unknown, route: RouteMatch) => void;
}): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const route = matchRoute(req.method ?? 'GET', req.url ?? '/', req.headers.host);
    if (!route) {
      req.resume();
      sendRoutingNotFound(res);
      return;
    }
    const binding = options.routes[route.name];
    const proceed = () => handle(options.catalog, binding, route, req, res);
    const run = options.interceptor ? options.interceptor(route, req, res, proceed) : proceed();
    run.catch((error: unknown) => {
      options.onError?.(error, route);
      if (!res.headersSent) sendJson(res, 500, { status: 500, error: 'Internal Server Error' });
      else res.destroy();
    });
  };
}

async function handle(
  catalog: Catalog,
  binding: RouteBinding,
  route: RouteMatch,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const account = route.username === undefined ? undefined : catalog.account(route.username);
  if (route.scope === 'account' && !account) {
    // An unknown or missing user gets Rails' routing 404, whatever the endpoint.
    req.resume();
    sendRoutingNotFound(res);
    return;
  }
  const context: RequestContext = {
    req,
    res,
    route,
    account,
    params: queryParams(req.url ?? '/'),
    viewer: undefined,
  };
  if (binding.body === 'params') {
    if (route.scope === 'account') await readParamsBody(req, context.params);
    else req.resume();
    authenticateContext(context);
  }
  await binding.handle(context);
}

/** Sets `viewer` from the params and the Authorization header; handlers with custom bodies call it after reading. */
export function authenticateContext(context: RequestContext): void {
  context.viewer = authenticate(context.account, context.params, context.req.headers.authorization);
}
