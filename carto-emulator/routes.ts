// The URL map: which endpoint a method and path name, and which CARTO user the URL addresses.
import { isIP } from 'node:net';

export type RouteName =
  | 'export.create'
  | 'export.show'
  | 'export.download'
  | 'import.create'
  | 'import.index'
  | 'import.show'
  | 'viz.index'
  | 'viz.show'
  | 'storage.presigned'
  | 'storage.uploads';

export interface RouteMatch {
  name: RouteName;
  /** Decoded path parameters, e.g. `id`. */
  params: Record<string, string>;
  /** The user from `/user/x`, `/u/x` or the Host subdomain; undefined when the URL names none. */
  username: string | undefined;
  /** API endpoints live under an account; static storage paths do not. */
  scope: 'account' | 'storage';
}

interface RouteDefinition {
  name: RouteName;
  method: 'GET' | 'POST';
  segments: string[];
  scope: RouteMatch['scope'];
}

const ROUTES: RouteDefinition[] = [
  {
    name: 'export.create',
    method: 'POST',
    segments: ['api', 'v3', 'visualization_exports'],
    scope: 'account',
  },
  {
    name: 'export.show',
    method: 'GET',
    segments: ['api', 'v3', 'visualization_exports', ':id'],
    scope: 'account',
  },
  {
    name: 'export.download',
    method: 'GET',
    segments: ['api', 'v3', 'visualization_exports', ':id', 'download'],
    scope: 'account',
  },
  { name: 'import.create', method: 'POST', segments: ['api', 'v1', 'imports'], scope: 'account' },
  { name: 'import.index', method: 'GET', segments: ['api', 'v1', 'imports'], scope: 'account' },
  { name: 'import.show', method: 'GET', segments: ['api', 'v1', 'imports', ':id'], scope: 'account' },
  { name: 'viz.index', method: 'GET', segments: ['api', 'v1', 'viz'], scope: 'account' },
  { name: 'viz.show', method: 'GET', segments: ['api', 'v1', 'viz', ':id'], scope: 'account' },
  {
    name: 'storage.presigned',
    method: 'GET',
    segments: ['exports-storage', ':token', ':filename'],
    scope: 'storage',
  },
  { name: 'storage.uploads', method: 'GET', segments: ['uploads', ':token', ':filename'], scope: 'storage' },
];

/**
 * Mirrors `config/routes.rb`: every route takes an optional `/user/:u` or `/u/:u` prefix, Rails ignores a trailing
 * slash (carto-python always sends one) and a `.json` format suffix, and HEAD is answered by GET routes.
 */
export function matchRoute(
  method: string,
  rawUrl: string,
  hostHeader: string | undefined,
): RouteMatch | undefined {
  let segments: string[];
  try {
    segments = new URL(rawUrl, 'http://emulator.invalid').pathname
      .split('/')
      .filter((segment) => segment !== '')
      .map((segment) => decodeURIComponent(segment));
  } catch {
    return undefined;
  }
  let username: string | undefined;
  while (segments.length >= 2 && (segments[0] === 'user' || segments[0] === 'u')) {
    username = segments[1];
    segments = segments.slice(2);
  }
  username ??= subdomainUser(hostHeader);
  if (segments[0] === 'api' && segments.length > 0) {
    segments[segments.length - 1] = segments[segments.length - 1].replace(/\.json$/, '');
  }
  const effectiveMethod = method === 'HEAD' ? 'GET' : method;
  for (const route of ROUTES) {
    if (route.method !== effectiveMethod || route.segments.length !== segments.length) continue;
    const params: Record<string, string> = {};
    const matches = route.segments.every((pattern, index) => {
      if (pattern.startsWith(':')) {
        params[pattern.slice(1)] = segments[index];
        return segments[index] !== '';
      }
      return pattern === segments[index];
    });
    if (matches) return { name: route.name, params, username, scope: route.scope };
  }
  return undefined;
}

/** `CartoDB.extract_subdomain`: `demo.localhost:8080` names user `demo`; bare hosts and IP addresses name nobody. */
function subdomainUser(hostHeader: string | undefined): string | undefined {
  if (!hostHeader) return undefined;
  const hostname = hostHeader.replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
  if (isIP(hostname) !== 0) return undefined;
  const labels = hostname.split('.');
  // Host names are case-insensitive; CARTO user names are lower-case.
  return labels.length >= 2 && labels[0] !== '' ? labels[0].toLowerCase() : undefined;
}
