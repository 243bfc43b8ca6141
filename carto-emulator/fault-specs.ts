// The command line's text form of a fault rule, `endpoint:fault[:key=value,...]`, both ways.
import ms from 'ms';
import { parseDuration } from './cli-values';
import { FaultRuleError, validateFaultRule, type FaultRule } from './faults';

const SYNTAX = 'expected endpoint:fault[:key=value,...] such as export.show:status5xx:rate=0.2';

/** Parameters whose text is a duration (`45s`, `2m`, milliseconds) rather than a number. */
const DURATIONS = ['delay', 'pause'];
const NUMBERS = ['rate', 'times', 'after', 'status', 'retryAfter', 'fraction'];

/** `--help` text: the grammar, every fault with its parameters, and an example. */
export const FAULT_SPEC_HELP = `
Fault injection (--fault, repeatable; the first rule that fires wins):
  --fault endpoint:fault[:key=value,...]
  endpoints: export.create export.show export.download (every url form) import.create
             import.list import.show viz.list viz.show, or * for all
  faults:    status5xx [status=500|502|503] [body=rails|nginx]   5xx, Rails JSON or nginx HTML
             rateLimit [retryAfter=<seconds, default 1>]         429 with Retry-After
             rateLimitNoRetryAfter                               429 without Retry-After
             slow [delay=<duration, default 60s>]                response headers come late
             reset                                               socket destroyed, no response
             truncate [fraction=<0..1, default 0.5>]             full Content-Length, part of the
                                                                 body, then the socket is destroyed
             malformedJson                                       200 whose body is not JSON
             stallDownload [fraction=0.5] [pause=<duration, default 60s>]
                                                                 download stops mid-body, then resumes
             expireUrl                                           download gets S3's 403 "Request has expired"
             exportFails [visualizationId=<id>]                  (export.create) export ends in failure
             exportStuck [visualizationId=<id>]                  (export.create) export stays exporting
  when:      rate=<0..1> fires at random (seeded by --fault-seed), times=<n> fires n times,
             after=<n> skips n matching requests first; without rate and times, always
  e.g.       --fault 'export.show:status5xx:rate=0.2' --fault 'export.download:truncate:times=1' --fault-seed 42
`;

/** Parses and validates one `--fault` value; errors say what is wrong and what is expected. */
export function parseFaultSpec(text: string): FaultRule {
  const parts = text.trim().split(':');
  if (parts.length < 2 || parts.length > 3 || parts[0] === '' || parts[1] === '') {
    throw new FaultRuleError(`${SYNTAX}; got "${text}"`);
  }
  const [endpoint, fault, parameters = ''] = parts;
  const rule: Record<string, unknown> = { endpoint, fault };
  for (const pair of parameters.split(',').filter((item) => item.trim() !== '')) {
    const match = /^\s*([A-Za-z]+)\s*=\s*(.*?)\s*$/.exec(pair);
    if (!match || match[2] === '') throw new FaultRuleError(`${SYNTAX}; "${pair}" is not key=value`);
    const [, key, value] = match;
    if (Object.hasOwn(rule, key)) throw new FaultRuleError(`${key} is given twice in "${text}"`);
    rule[key] = parseValue(key, value);
  }
  return validateFaultRule(rule);
}

/** The spec that parses back into `rule`, for the banner and messages. */
export function formatFaultRule(rule: FaultRule): string {
  const parameters = Object.entries(rule)
    .filter(([key, value]) => key !== 'endpoint' && key !== 'fault' && value !== undefined)
    .map(
      ([key, value]) => `${key}=${DURATIONS.includes(key) ? formatDuration(value as number) : String(value)}`,
    );
  const endpoint = rule.endpoint ?? 'export.create';
  return [endpoint, rule.fault, ...(parameters.length > 0 ? [parameters.join(',')] : [])].join(':');
}

function parseValue(key: string, value: string): unknown {
  if (DURATIONS.includes(key)) {
    try {
      return parseDuration(value);
    } catch {
      throw new FaultRuleError(`${key} must be a duration such as 300ms, 45s or 2m, got "${value}"`);
    }
  }
  if (NUMBERS.includes(key)) {
    const number = Number(value);
    if (Number.isNaN(number)) throw new FaultRuleError(`${key} must be a number, got "${value}"`);
    return number;
  }
  return value;
}

/** `45s` or `2m` when that is exact, milliseconds otherwise (`ms` rounds 1500 to `2s`). */
function formatDuration(milliseconds: number): string {
  const short = ms(milliseconds);
  return parseDuration(short) === milliseconds ? short : `${milliseconds}ms`;
}
