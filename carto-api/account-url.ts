// Reads a CARTO account base URL in any of its three forms and says which user it names.

export interface CartoAccountUrl {
  /** Base URL without a trailing slash; API paths are appended to it. */
  baseUrl: string;
  /** The user the URL names, needed for HTTP Basic auth (CARTO requires username == URL user). */
  username: string;
}

/**
 * Accepts `https://{user}.carto.com`, `https://{host}/user/{user}` and `https://{org}.carto.com/u/{user}`:
 * CARTO's router takes the user from a `/user/x` or `/u/x` segment first, else from the subdomain.
 */
export function parseAccountUrl(raw: string): CartoAccountUrl {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new Error(
      `not a URL: expected https://{user}.carto.com, https://{host}/user/{user} or https://{org}.carto.com/u/{user}`,
    );
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw new Error(`must use http or https, got ${url.protocol}`);
  if (url.search || url.hash) throw new Error('must not carry a query string or fragment');
  const path = url.pathname.replace(/\/+$/, '');
  const segment = /^\/(?:user|u)\/([^/]+)$/.exec(path);
  if (path !== '' && !segment) {
    throw new Error(`path must be empty, /user/{user} or /u/{user}, got ${path}`);
  }
  const username = segment ? decodeURIComponent(segment[1]) : url.hostname.split('.')[0];
  if (!segment && url.hostname.split('.').length < 3) {
    throw new Error(
      `cannot tell the user from ${url.hostname}: use https://{user}.carto.com or add /user/{user}`,
    );
  }
  return { baseUrl: `${url.origin}${path}`, username };
}
