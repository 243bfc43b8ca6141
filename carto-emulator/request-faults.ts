// What each per-request fault puts on the wire, in place of (or around) the route's normal handling.
import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import type { RequestFaultRule } from './faults';
import { sendBody, sendS3Error } from './http-responses';
import { holdResponse, interruptBody } from './interrupted-body';

const JSON_TYPE = 'application/json; charset=utf-8';

/** nginx words 503 its own way. */
const NGINX_REASONS: Record<number, string> = { 503: 'Service Temporarily Unavailable' };

const DEFAULT_SLOW_DELAY = 60_000;
const DEFAULT_STALL_PAUSE = 60_000;
const DEFAULT_CUT_FRACTION = 0.5;
const DEFAULT_RETRY_AFTER = 1;

/**
 * Applies `rule` to one request. Faults that answer instead of the route drain the request body first, so a client
 * still uploading reads the answer instead of a broken pipe. `signal` aborts waits when the emulator closes.
 */
export async function applyRequestFault(
  rule: RequestFaultRule,
  req: IncomingMessage,
  res: ServerResponse,
  proceed: () => Promise<void>,
  signal: AbortSignal,
): Promise<void> {
  switch (rule.fault) {
    case 'status5xx': {
      req.resume();
      const status = rule.status ?? 500;
      if ((rule.body ?? (status === 500 ? 'rails' : 'nginx')) === 'rails') {
        // Rails' public exceptions app, as it renders errors for JSON requests.
        sendBody(res, status, JSON_TYPE, JSON.stringify({ status, error: STATUS_CODES[status] }));
      } else {
        const title = `${status} ${NGINX_REASONS[status] ?? STATUS_CODES[status]}`;
        const page =
          `<html>\r\n<head><title>${title}</title></head>\r\n<body>\r\n<center><h1>${title}</h1></center>\r\n` +
          '<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n';
        sendBody(res, status, 'text/html', page, { server: 'nginx' });
      }
      return;
    }
    case 'rateLimit': {
      req.resume();
      const seconds = rule.retryAfter ?? DEFAULT_RETRY_AFTER;
      // The headers carto-python reads to recognise CARTO's rate limiter (carto/exceptions.py).
      sendBody(res, 429, JSON_TYPE, RATE_LIMIT_BODY, {
        'carto-rate-limit-limit': '1',
        'carto-rate-limit-remaining': '0',
        'carto-rate-limit-reset': String(seconds),
        'retry-after': String(seconds),
      });
      return;
    }
    case 'rateLimitNoRetryAfter':
      req.resume();
      sendBody(res, 429, JSON_TYPE, RATE_LIMIT_BODY);
      return;
    case 'malformedJson':
      req.resume();
      // What a JSON parser chokes on, with a Content-Length that matches: the bytes are complete, the JSON is not.
      sendBody(res, 200, JSON_TYPE, '{"emulated_fault": "malformedJson", ');
      return;
    case 'expireUrl': {
      req.resume();
      const resource = decodeURIComponent(new URL(req.url ?? '/', 'http://emulator.invalid').pathname);
      sendS3Error(res, 403, 'AccessDenied', 'Request has expired', resource);
      return;
    }
    case 'reset': {
      const socket = req.socket;
      // A TCP RST where the platform allows it (the client sees ECONNRESET), a plain close otherwise.
      if (typeof socket.resetAndDestroy === 'function' && !socket.destroyed) socket.resetAndDestroy();
      else socket.destroy();
      return;
    }
    case 'slow':
      // The handler runs now and its answer waits, so a POST still takes effect when the client has given up.
      holdResponse(res, rule.delay ?? DEFAULT_SLOW_DELAY, signal);
      return proceed();
    case 'truncate':
      interruptBody(res, { fraction: rule.fraction ?? DEFAULT_CUT_FRACTION, then: { kind: 'truncate' } });
      return proceed();
    case 'stallDownload':
      interruptBody(res, {
        fraction: rule.fraction ?? DEFAULT_CUT_FRACTION,
        then: { kind: 'stall', pause: rule.pause ?? DEFAULT_STALL_PAUSE, signal },
      });
      return proceed();
  }
}

/** The rate limiter's body in CARTO's SQL and Maps APIs. */
const RATE_LIMIT_BODY = JSON.stringify({
  errors: ["You are over platform's limits: Please contact us to know more details"],
  context: 'limit',
  detail: 'rate-limit',
});
