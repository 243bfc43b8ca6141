// CARTO's `auth_api` strategy: the URL user's master API key, as `api_key` or HTTP Basic credentials.
import type { Account } from './catalog';
import { stringParam, type Params } from './request-params';

/**
 * Returns the account when the request carries its master key. Basic auth counts only when its username is the URL
 * user (CARTO compares them); any other key, or a key of another user, authenticates nobody.
 */
export function authenticate(
  account: Account | undefined,
  params: Params,
  authorization: string | undefined,
): Account | undefined {
  if (!account) return undefined;
  if (stringParam(params, 'api_key') === account.apiKey) return account;
  const basic = /^Basic\s+(\S+)$/i.exec(authorization ?? '');
  if (basic) {
    const decoded = Buffer.from(basic[1], 'base64').toString('utf8');
    const separator = decoded.indexOf(':');
    if (separator >= 0) {
      const username = decoded.slice(0, separator);
      const key = decoded.slice(separator + 1);
      if (username === account.name && key === account.apiKey) return account;
    }
  }
  return undefined;
}
