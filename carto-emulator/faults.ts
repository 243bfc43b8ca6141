// The fault-injection vocabulary: which endpoints can misbehave, how, and when; rules are validated here, once.
import type { RouteName } from './routes';

/**
 * Endpoints a fault can target. `export.download` covers every form of the export `url` (the API download path, the
 * `/uploads/` path and the pre-signed storage path); `import.list` and `viz.list` are the index routes.
 */
export const FAULT_ENDPOINTS = [
  'export.create',
  'export.show',
  'export.download',
  'import.create',
  'import.list',
  'import.show',
  'viz.list',
  'viz.show',
] as const;

export type FaultEndpoint = (typeof FAULT_ENDPOINTS)[number];

/** Endpoints that answer JSON (everything but the download). */
export type JsonFaultEndpoint = Exclude<FaultEndpoint, 'export.download'>;

/** Faults applied to one HTTP request. */
export const REQUEST_FAULTS = [
  'status5xx',
  'rateLimit',
  'rateLimitNoRetryAfter',
  'slow',
  'reset',
  'truncate',
  'malformedJson',
  'stallDownload',
  'expireUrl',
] as const;

/** Faults decided once per export, when it is created: how the job ends. */
export const EXPORT_OUTCOME_FAULTS = ['exportFails', 'exportStuck'] as const;

export type RequestFault = (typeof REQUEST_FAULTS)[number];
export type ExportOutcomeFault = (typeof EXPORT_OUTCOME_FAULTS)[number];
export type FaultKind = RequestFault | ExportOutcomeFault;

/**
 * When a rule fires. Every rule counts the requests (or exports) it matches; the first `after` are skipped, then each
 * one fires with probability `rate` (default 1, drawn from the emulator's seeded PRNG) until it has fired `times` times
 * (default: no limit). `{ times: 2 }` fails the next two matching requests; `{ rate: 0.2 }` one in five, at random.
 */
export interface FaultTrigger {
  /** Probability in [0, 1] that a matching request fires the fault. Default 1. */
  rate?: number;
  /** Fire at most this many times (a whole number >= 1), then behave normally. Default unlimited. */
  times?: number;
  /** Let this many matching requests through untouched before the rule may fire. Default 0. */
  after?: number;
}

/** A 500, 502 or 503; `body` is Rails' JSON error (`{"status":500,"error":…}`) or nginx's HTML error page. */
export interface ServerErrorFault extends FaultTrigger {
  endpoint: FaultEndpoint | '*';
  fault: 'status5xx';
  /** Default 500. */
  status?: 500 | 502 | 503;
  /** Default `rails` for 500, `nginx` for 502 and 503 (who answers those in front of CARTO). */
  body?: 'rails' | 'nginx';
}

/** 429 with `Retry-After` and CARTO's `Carto-Rate-Limit-*` headers, as the SQL and Maps APIs send. */
export interface RateLimitFault extends FaultTrigger {
  endpoint: FaultEndpoint | '*';
  fault: 'rateLimit';
  /** Seconds in `Retry-After`, a whole number >= 0. Default 1. */
  retryAfter?: number;
}

/** The response (headers included) waits `delay` ms; the handler runs at once, so a POST takes effect anyway. */
export interface SlowFault extends FaultTrigger {
  endpoint: FaultEndpoint | '*';
  fault: 'slow';
  /** Milliseconds, default 60 s: past the CARTO client's 30 s timeout. */
  delay?: number;
}

/** Headers with the full Content-Length, then only `fraction` of the body, then the socket is destroyed. */
export interface TruncateFault extends FaultTrigger {
  endpoint: FaultEndpoint | '*';
  fault: 'truncate';
  /** Share of the body sent, in [0, 1); default 0.5. At least one byte is always missing. */
  fraction?: number;
}

/** The download sends `fraction` of the body, stops for `pause` ms with the socket open, then sends the rest. */
export interface StallDownloadFault extends FaultTrigger {
  endpoint: 'export.download' | '*';
  fault: 'stallDownload';
  /** Share of the body sent before the stall, in [0, 1); default 0.5. */
  fraction?: number;
  /** Milliseconds without a byte, default 60 s. */
  pause?: number;
}

/** Faults without parameters of their own. */
export interface PlainRequestFault extends FaultTrigger {
  endpoint: FaultEndpoint | '*';
  /** `rateLimitNoRetryAfter`: 429 without `Retry-After`; `reset`: the socket is destroyed before any response. */
  fault: 'rateLimitNoRetryAfter' | 'reset';
}

/** 200 with a body that is not JSON (and a JSON content type). Only JSON endpoints; `*` skips the download. */
export interface MalformedJsonFault extends FaultTrigger {
  endpoint: JsonFaultEndpoint | '*';
  fault: 'malformedJson';
}

/** S3's 403 `AccessDenied` "Request has expired", whatever the URL's TTL and form. */
export interface ExpireUrlFault extends FaultTrigger {
  endpoint: 'export.download' | '*';
  fault: 'expireUrl';
}

/**
 * How an export ends, decided when it is created: `exportFails` reaches `failure` when it would have completed,
 * `exportStuck` stays `exporting` forever. Counted per created export (refused POSTs do not count).
 */
export interface ExportOutcomeRule extends FaultTrigger {
  /** Outcome faults belong to export creation; `endpoint` may be omitted. */
  endpoint?: 'export.create' | '*';
  fault: ExportOutcomeFault;
  /** Only exports of this visualization; default any. */
  visualizationId?: string;
}

export type RequestFaultRule =
  | ServerErrorFault
  | RateLimitFault
  | SlowFault
  | TruncateFault
  | StallDownloadFault
  | PlainRequestFault
  | MalformedJsonFault
  | ExpireUrlFault;

export type FaultRule = RequestFaultRule | ExportOutcomeRule;

/** How many times each fault fired, per endpoint; endpoints and faults that never fired are absent. */
export type FaultStats = Partial<Record<FaultEndpoint, Partial<Record<FaultKind, number>>>>;

/** `RunningEmulator.faults`: change the rules of a running emulator. */
export interface FaultController {
  /** Replaces every rule; counters of the new rules start at zero. Throws on an invalid rule, changing nothing. */
  set(rules: FaultRule[]): void;
  /** Appends a rule after the existing ones (earlier rules win when several fire). */
  add(rule: FaultRule): void;
  /** Removes every rule: the emulator behaves normally again. Statistics are kept. */
  clear(): void;
  /** Faults fired since the emulator started, per endpoint. */
  stats(): FaultStats;
}

/** A rule that cannot be applied; the message names the rule, the field and the fix. */
export class FaultRuleError extends Error {
  override name = 'FaultRuleError';
}

const TRIGGER_FIELDS = ['endpoint', 'fault', 'rate', 'times', 'after'];

/** Fields each fault takes beyond the trigger. */
export const FAULT_PARAMETERS: Record<FaultKind, readonly string[]> = {
  status5xx: ['status', 'body'],
  rateLimit: ['retryAfter'],
  rateLimitNoRetryAfter: [],
  slow: ['delay'],
  reset: [],
  truncate: ['fraction'],
  malformedJson: [],
  stallDownload: ['fraction', 'pause'],
  expireUrl: [],
  exportFails: ['visualizationId'],
  exportStuck: ['visualizationId'],
};

/** The fault endpoint a route belongs to. */
export function faultEndpointOf(route: RouteName): FaultEndpoint {
  switch (route) {
    case 'storage.presigned':
    case 'storage.uploads':
      return 'export.download';
    case 'import.index':
      return 'import.list';
    case 'viz.index':
      return 'viz.list';
    default:
      return route;
  }
}

/** Whether `fault` makes sense on `endpoint`: JSON faults skip the download, download faults need it. */
export function faultApplies(fault: RequestFault, endpoint: FaultEndpoint): boolean {
  if (fault === 'malformedJson') return endpoint !== 'export.download';
  if (fault === 'stallDownload' || fault === 'expireUrl') return endpoint === 'export.download';
  return true;
}

export function isExportOutcomeRule(rule: FaultRule): rule is ExportOutcomeRule {
  return (EXPORT_OUTCOME_FAULTS as readonly string[]).includes(rule.fault);
}

/** Checks every rule (they may come from JavaScript or JSON) and returns copies; throws `FaultRuleError`. */
export function validateFaultRules(rules: unknown): FaultRule[] {
  if (!Array.isArray(rules))
    throw new FaultRuleError(`faults must be an array of rules, got ${describe(rules)}`);
  return rules.map((rule, index) => validateFaultRule(rule, `faults[${index}]`));
}

/** `label` (e.g. `faults[2]`) prefixes the messages. */
export function validateFaultRule(input: unknown, label?: string): FaultRule {
  const fail = (message: string): never => {
    throw new FaultRuleError(label === undefined ? message : `${label}: ${message}`);
  };
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    fail(`a rule must be an object such as { endpoint, fault, rate }, got ${describe(input)}`);
  }
  const rule = { ...(input as Record<string, unknown>) };
  const fault = rule.fault;
  if (typeof fault !== 'string' || !Object.hasOwn(FAULT_PARAMETERS, fault)) {
    fail(`fault must be one of ${Object.keys(FAULT_PARAMETERS).join(', ')}; got ${describe(fault)}`);
  }
  const kind = fault as FaultKind;
  const allowed = [...TRIGGER_FIELDS, ...FAULT_PARAMETERS[kind]];
  for (const key of Object.keys(rule)) {
    if (rule[key] === undefined) delete rule[key];
    else if (!allowed.includes(key)) {
      fail(`${kind} does not take "${key}"; it takes ${allowed.slice(2).join(', ')}`);
    }
  }

  const endpoint = rule.endpoint;
  if ((EXPORT_OUTCOME_FAULTS as readonly string[]).includes(kind)) {
    if (endpoint !== undefined && endpoint !== 'export.create' && endpoint !== '*') {
      fail(
        `${kind} is decided when an export is created: its endpoint is export.create (or *), not ${describe(endpoint)}`,
      );
    }
    if (rule.visualizationId !== undefined && typeof rule.visualizationId !== 'string') {
      fail(`visualizationId must be a string, got ${describe(rule.visualizationId)}`);
    }
  } else {
    if (endpoint !== '*' && !(FAULT_ENDPOINTS as readonly unknown[]).includes(endpoint)) {
      fail(`endpoint must be one of ${FAULT_ENDPOINTS.join(', ')} or *; got ${describe(endpoint)}`);
    }
    if (endpoint !== '*' && !faultApplies(kind as RequestFault, endpoint as FaultEndpoint)) {
      fail(
        kind === 'malformedJson'
          ? 'malformedJson only applies to JSON endpoints, not export.download (use truncate for downloads)'
          : `${kind} only applies to export.download, not ${String(endpoint)}`,
      );
    }
  }

  if (rule.rate !== undefined && !(typeof rule.rate === 'number' && rule.rate >= 0 && rule.rate <= 1)) {
    fail(`rate must be a number from 0 to 1, got ${describe(rule.rate)}`);
  }
  if (rule.times !== undefined && !isWhole(rule.times, 1)) {
    fail(`times must be a whole number >= 1, got ${describe(rule.times)}`);
  }
  if (rule.after !== undefined && !isWhole(rule.after, 0)) {
    fail(`after must be a whole number >= 0, got ${describe(rule.after)}`);
  }
  if (rule.status !== undefined && ![500, 502, 503].includes(rule.status as number)) {
    fail(`status must be 500, 502 or 503, got ${describe(rule.status)}`);
  }
  if (rule.body !== undefined && rule.body !== 'rails' && rule.body !== 'nginx') {
    fail(`body must be rails or nginx, got ${describe(rule.body)}`);
  }
  if (rule.retryAfter !== undefined && !isWhole(rule.retryAfter, 0)) {
    fail(`retryAfter must be a whole number of seconds >= 0, got ${describe(rule.retryAfter)}`);
  }
  for (const name of ['delay', 'pause'] as const) {
    if (rule[name] !== undefined && !isWhole(rule[name], 0)) {
      fail(`${name} must be a whole number of milliseconds >= 0, got ${describe(rule[name])}`);
    }
  }
  if (
    rule.fraction !== undefined &&
    !(typeof rule.fraction === 'number' && rule.fraction >= 0 && rule.fraction < 1)
  ) {
    fail(`fraction must be a number from 0 up to (not including) 1, got ${describe(rule.fraction)}`);
  }
  return rule as unknown as FaultRule;
}

function isWhole(value: unknown, minimum: number): boolean {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= minimum;
}

function describe(value: unknown): string {
  return typeof value === 'string' || (typeof value === 'object' && value !== null)
    ? JSON.stringify(value)
    : String(value);
}
