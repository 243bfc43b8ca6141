// Reads and validates the worker's configuration from the environment, once, at start.
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { parseAccountUrl } from '../carto-api/account-url';
import { DEFAULT_TASK_QUEUE } from '../contract/export-visualization';
import type { CartoAccountConfig } from '../activities/carto-accounts';
import type { S3Settings } from '../activities/s3-client';
import type { CopySettings } from '../activities/copy-export-to-s3';

export interface WorkerConfig {
  temporal: { address: string; namespace: string; taskQueue: string };
  s3: S3Settings;
  defaultBucket?: string;
  accounts: Record<string, CartoAccountConfig>;
  copy: CopySettings;
  cartoTimeoutMs: number;
  observability: {
    /** Prometheus `/metrics` bind address, or undefined when turned off. */
    metricsAddress?: string;
    logFormat: 'json' | 'text';
    logLevel: 'TRACE' | 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
  };
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid worker configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

const MiB = 1024 * 1024;

const accountSchema = z
  .object({
    baseUrl: z
      .string({ error: 'is required: the account URL, e.g. https://{user}.carto.com' })
      .superRefine((value, ctx) => {
        try {
          parseAccountUrl(value);
        } catch (error) {
          ctx.addIssue({ code: 'custom', message: (error as Error).message });
        }
      }),
    // Never echo the value: messages about the key must not contain it.
    apiKey: z.string({ error: 'is required: the account master API key' }).min(1, 'must not be empty'),
  })
  .strict();

const accountsSchema = z
  .record(
    z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/, 'alias must use letters, digits, ".", "_", "-"'),
    accountSchema,
  )
  .refine((accounts) => Object.keys(accounts).length > 0, 'must define at least one account');

const flag = () =>
  z
    .enum(['true', 'false', '1', '0'], { error: 'must be true or false' })
    .transform((v) => v === 'true' || v === '1');

const positiveInt = () => z.string().regex(/^\d+$/, 'must be a whole number').transform(Number);

const envSchema = z.object({
  TEMPORAL_ADDRESS: z.string().min(1).default('localhost:7233'),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  CARTO_FERRY_TASK_QUEUE: z.string().min(1).default(DEFAULT_TASK_QUEUE),
  S3_ENDPOINT: z.url({ error: 'must be a URL such as http://127.0.0.1:8333' }).optional(),
  S3_REGION: z.string().min(1).default('us-east-1'),
  S3_FORCE_PATH_STYLE: flag().optional(),
  S3_CHECKSUMS: z
    .enum(['WHEN_SUPPORTED', 'WHEN_REQUIRED'], {
      error: 'must be WHEN_SUPPORTED or WHEN_REQUIRED',
    })
    .optional(),
  AWS_ACCESS_KEY_ID: z.string().min(1).optional(),
  AWS_SECRET_ACCESS_KEY: z.string().min(1).optional(),
  CARTO_FERRY_BUCKET: z
    .string()
    .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be a valid S3 bucket name')
    .optional(),
  CARTO_ACCOUNTS: z.string().optional(),
  CARTO_ACCOUNTS_FILE: z.string().optional(),
  CARTO_FERRY_PART_SIZE_MIB: positiveInt().optional(),
  CARTO_FERRY_UPLOAD_QUEUE_SIZE: positiveInt().optional(),
  CARTO_HTTP_TIMEOUT_MS: positiveInt().optional(),
  CARTO_FERRY_METRICS_ADDRESS: z
    .string()
    .regex(/^(off|[^:\s]+:\d{1,5})$/, 'must be host:port (e.g. 0.0.0.0:9464) or off')
    .optional(),
  CARTO_FERRY_LOG_FORMAT: z.enum(['json', 'text'], { error: 'must be json or text' }).optional(),
  CARTO_FERRY_LOG_LEVEL: z
    .enum(['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR'], { error: 'must be TRACE, DEBUG, INFO, WARN or ERROR' })
    .optional(),
});

/** Builds the worker configuration; throws ConfigError naming every bad variable and its fix. */
export function loadWorkerConfig(env: NodeJS.ProcessEnv = process.env): WorkerConfig {
  const parsed = envSchema.safeParse(env);
  const problems: string[] = [];
  if (!parsed.success) {
    // Report the accounts too, so one run of the worker names every problem.
    problems.push(...parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`));
    readAccounts(env.CARTO_ACCOUNTS, env.CARTO_ACCOUNTS_FILE, problems);
    throw new ConfigError(problems);
  }
  const vars = parsed.data;

  if ((vars.AWS_ACCESS_KEY_ID === undefined) !== (vars.AWS_SECRET_ACCESS_KEY === undefined)) {
    problems.push(
      'AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY: set both, or neither to use the default AWS credential chain',
    );
  }
  const partSizeMiB = vars.CARTO_FERRY_PART_SIZE_MIB ?? 16;
  if (partSizeMiB < 5 || partSizeMiB > 5 * 1024)
    problems.push('CARTO_FERRY_PART_SIZE_MIB: must be between 5 and 5120 (S3 part size limits)');
  const queueSize = vars.CARTO_FERRY_UPLOAD_QUEUE_SIZE ?? 4;
  if (queueSize < 1 || queueSize > 64)
    problems.push('CARTO_FERRY_UPLOAD_QUEUE_SIZE: must be between 1 and 64');

  const accounts = readAccounts(vars.CARTO_ACCOUNTS, vars.CARTO_ACCOUNTS_FILE, problems);
  if (problems.length) throw new ConfigError(problems);

  return {
    temporal: {
      address: vars.TEMPORAL_ADDRESS,
      namespace: vars.TEMPORAL_NAMESPACE,
      taskQueue: vars.CARTO_FERRY_TASK_QUEUE,
    },
    s3: {
      endpoint: vars.S3_ENDPOINT,
      region: vars.S3_REGION,
      forcePathStyle: vars.S3_FORCE_PATH_STYLE ?? vars.S3_ENDPOINT !== undefined,
      credentials:
        vars.AWS_ACCESS_KEY_ID && vars.AWS_SECRET_ACCESS_KEY
          ? { accessKeyId: vars.AWS_ACCESS_KEY_ID, secretAccessKey: vars.AWS_SECRET_ACCESS_KEY }
          : undefined,
      checksums: vars.S3_CHECKSUMS ?? (vars.S3_ENDPOINT ? 'WHEN_REQUIRED' : 'WHEN_SUPPORTED'),
    },
    defaultBucket: vars.CARTO_FERRY_BUCKET,
    accounts,
    copy: { partSize: partSizeMiB * MiB, queueSize },
    cartoTimeoutMs: vars.CARTO_HTTP_TIMEOUT_MS ?? 30_000,
    observability: {
      metricsAddress:
        vars.CARTO_FERRY_METRICS_ADDRESS === 'off'
          ? undefined
          : (vars.CARTO_FERRY_METRICS_ADDRESS ?? '127.0.0.1:9464'),
      logFormat: vars.CARTO_FERRY_LOG_FORMAT ?? 'json',
      logLevel: vars.CARTO_FERRY_LOG_LEVEL ?? 'INFO',
    },
  };
}

function readAccounts(
  inline: string | undefined,
  file: string | undefined,
  problems: string[],
): Record<string, CartoAccountConfig> {
  if (inline !== undefined && file !== undefined) {
    problems.push('CARTO_ACCOUNTS and CARTO_ACCOUNTS_FILE: set only one of them');
    return {};
  }
  const source =
    inline !== undefined ? 'CARTO_ACCOUNTS' : file !== undefined ? 'CARTO_ACCOUNTS_FILE' : undefined;
  if (!source) {
    problems.push(
      'CARTO_ACCOUNTS: required, as JSON {"alias": {"baseUrl": "https://{user}.carto.com", "apiKey": "..."}} (or put that JSON in a file named by CARTO_ACCOUNTS_FILE)',
    );
    return {};
  }
  let text: string;
  if (inline !== undefined) {
    text = inline;
  } else {
    try {
      text = readFileSync(file as string, 'utf8');
    } catch (error) {
      problems.push(
        `CARTO_ACCOUNTS_FILE: cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
      );
      return {};
    }
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    // The text may hold API keys, so the parser's message (which quotes it) is not repeated.
    problems.push(`${source}: is not valid JSON; expected {"alias": {"baseUrl": "...", "apiKey": "..."}}`);
    return {};
  }
  const accounts = accountsSchema.safeParse(json);
  if (!accounts.success) {
    for (const issue of accounts.error.issues)
      problems.push(`${[source, ...issue.path].join('.')}: ${issue.message}`);
    return {};
  }
  return accounts.data;
}
