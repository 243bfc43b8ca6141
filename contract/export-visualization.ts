// The contract of the exportVisualization workflow: what users type in the Temporal CLI and what other services import.
import { z } from 'zod';
import ms from 'ms';

/** Task queue the worker listens on unless CARTO_FERRY_TASK_QUEUE says otherwise. */
export const DEFAULT_TASK_QUEUE = 'carto-export';
/** Workflow type name, as typed in `temporal workflow start --type`. */
export const WORKFLOW_TYPE = 'exportVisualization';

/** Export states as the server implements them; the public docs' longer list belongs to imports. */
export const EXPORT_STATES = ['pending', 'exporting', 'uploading', 'complete', 'failure'] as const;
export type ExportState = (typeof EXPORT_STATES)[number];

/** Import API states (pending/enqueued → uploading → unpacking → importing ↔ guessing/geocoding → complete|failure). */
export type ImportState = string;

/** Stable failure type names: match on these, not on messages. */
export const FailureType = {
  InvalidInput: 'InvalidInput',
  UnknownAccount: 'UnknownAccount',
  Unauthorized: 'Unauthorized',
  AccessDenied: 'AccessDenied',
  VisualizationNotFound: 'VisualizationNotFound',
  NotExportable: 'NotExportable',
  ExportNotFound: 'ExportNotFound',
  ExportFailed: 'ExportFailed',
  ExportTimedOut: 'ExportTimedOut',
  ExportFileUnavailable: 'ExportFileUnavailable',
  CartoRequestRejected: 'CartoRequestRejected',
  CartoUnavailable: 'CartoUnavailable',
  RateLimited: 'RateLimited',
  DestinationUnavailable: 'DestinationUnavailable',
  IntegrityCheckFailed: 'IntegrityCheckFailed',
  ImportRejected: 'ImportRejected',
  ImportFailed: 'ImportFailed',
  ImportTimedOut: 'ImportTimedOut',
} as const;
export type FailureType = (typeof FailureType)[keyof typeof FailureType];

/** Failure types that retrying the same activity cannot fix. */
export const NON_RETRYABLE_FAILURES: readonly FailureType[] = [
  FailureType.InvalidInput,
  FailureType.UnknownAccount,
  FailureType.Unauthorized,
  FailureType.AccessDenied,
  FailureType.VisualizationNotFound,
  FailureType.NotExportable,
  FailureType.ExportNotFound,
  FailureType.CartoRequestRejected,
  FailureType.ImportRejected,
];

/** A duration as milliseconds or an `ms`-style string ('5s', '10 minutes'). */
export type Duration = number | string;

export interface ExportVisualizationInput {
  source: {
    /** Account alias configured on the worker; never an API key. */
    account: string;
    visualizationId: string;
    /** Narrows the exported datasets; CARTO includes every readable table when absent. */
    userTablesIds?: string[];
  };
  destination?: {
    /** Defaults to the worker's CARTO_FERRY_BUCKET. */
    bucket?: string;
    /** Full object key; exclusive with `prefix`. */
    key?: string;
    /** Key prefix for the default key `{prefix}{account}/{visualizationId}/{UTC timestamp}.carto`. */
    prefix?: string;
  };
  import?: {
    account: string;
    createVisualization?: boolean;
    privacy?: 'public' | 'private' | 'link';
    collisionStrategy?: 'skip' | 'overwrite';
    /** How CARTO receives the file: a pre-signed S3 URL (default) or a streamed upload (S3 not reachable from CARTO). */
    via?: 'url' | 'upload';
  };
  polling?: {
    initialInterval?: Duration;
    maxInterval?: Duration;
    backoffCoefficient?: number;
    /** Overall limit for the export to complete, and again for the import. */
    timeout?: Duration;
  };
}

export interface StoredObject {
  bucket: string;
  key: string;
  uri: string;
  size: number;
  /** `sha256:<hex>` of the bytes as they streamed from CARTO into S3. */
  checksum: string;
}

export interface ImportOutcome {
  importId: string;
  state: ImportState;
  visualizationId: string | null;
  tableNames: string[];
  tablesCreated: number;
}

export interface ExportVisualizationResult {
  exportId: string;
  visualizationId: string;
  object: StoredObject;
  import?: ImportOutcome;
  polls: number;
  startedAt: string;
  completedAt: string;
}

/** Details attached to an ImportFailed failure, so the caller knows what did land. */
export interface ImportFailureDetails {
  errorCode: number | null;
  title: string | null;
  importId: string;
  object: StoredObject;
}

export const POLLING_DEFAULTS = {
  initialInterval: 5_000,
  maxInterval: 5 * 60_000,
  backoffCoefficient: 2,
  timeout: 7 * 24 * 60 * 60_000,
} as const;

export interface PollingPolicy {
  initialInterval: number;
  maxInterval: number;
  backoffCoefficient: number;
  timeout: number;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const ACCOUNT_ALIAS = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;
// S3 bucket naming rules, simplified to what every S3-compatible server accepts.
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

const accountAlias = z
  .string({ error: 'must be a string: the account alias configured on the worker' })
  .regex(ACCOUNT_ALIAS, 'must be an account alias (letters, digits, ".", "_", "-"), not a URL or an API key');

const duration = z.union([z.number(), z.string()]).transform((value, ctx) => {
  const millis = typeof value === 'number' ? value : ms(value as ms.StringValue);
  if (typeof millis !== 'number' || !Number.isFinite(millis) || millis <= 0) {
    ctx.addIssue({
      code: 'custom',
      message: `must be a positive duration like '5s' or '10 minutes', got ${JSON.stringify(value)}`,
    });
    return z.NEVER;
  }
  return millis;
});

const inputSchema = z
  .object({
    source: z.object(
      {
        account: accountAlias,
        visualizationId: z
          .string({ error: 'is required' })
          .regex(UUID, 'must be the map UUID (for example 2b13c956-e7c1-11e2-806b-5404a6a683d5)'),
        userTablesIds: z
          .union([z.array(z.string().regex(UUID, 'must be a user table UUID')), z.string()])
          .transform((v) =>
            typeof v === 'string'
              ? v
                  .split(',')
                  .map((s) => s.trim())
                  .filter(Boolean)
              : v,
          )
          .pipe(z.array(z.string().regex(UUID, 'must be comma-separated user table UUIDs')))
          .optional(),
      },
      { error: 'is required: { account, visualizationId }' },
    ),
    destination: z
      .object({
        bucket: z
          .string()
          .regex(BUCKET, 'must be a valid S3 bucket name (3-63 lower-case letters, digits, "." or "-")')
          .optional(),
        key: z.string().min(1, 'must not be empty').max(1024, 'must be at most 1024 characters').optional(),
        prefix: z.string().max(512, 'must be at most 512 characters').optional(),
      })
      .refine((d) => d.key === undefined || d.prefix === undefined, {
        message: 'give either key or prefix, not both',
        path: ['key'],
      })
      .optional(),
    import: z
      .object({
        account: accountAlias,
        createVisualization: z.boolean().optional(),
        privacy: z.enum(['public', 'private', 'link']).optional(),
        collisionStrategy: z.enum(['skip', 'overwrite']).optional(),
        via: z.enum(['url', 'upload']).optional(),
      })
      .optional(),
    polling: z
      .object({
        initialInterval: duration.optional(),
        maxInterval: duration.optional(),
        backoffCoefficient: z.number().min(1, 'must be at least 1').max(10, 'must be at most 10').optional(),
        timeout: duration.optional(),
      })
      .optional(),
  })
  .strict();

export type NormalizedInput = z.output<typeof inputSchema> & { polling: PollingPolicy };

export class InvalidInputError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid exportVisualization input: ${problems.join('; ')}`);
    this.name = 'InvalidInputError';
  }
}

/** Validates and normalizes workflow input; throws InvalidInputError naming each bad field and its fix. */
export function parseExportInput(raw: unknown): NormalizedInput {
  const parsed = inputSchema.safeParse(raw);
  if (!parsed.success) {
    throw new InvalidInputError(
      parsed.error.issues.map(
        (issue) => `${issue.path.length ? issue.path.join('.') : 'input'}: ${issue.message}`,
      ),
    );
  }
  const given = dropUndefined(parsed.data.polling ?? {});
  const polling = { ...POLLING_DEFAULTS, ...given };
  // A long first interval without an explicit cap raises the cap rather than being an error.
  if (given.maxInterval === undefined)
    polling.maxInterval = Math.max(polling.maxInterval, polling.initialInterval);
  if (polling.maxInterval < polling.initialInterval) {
    throw new InvalidInputError(['polling.maxInterval: must not be shorter than polling.initialInterval']);
  }
  return { ...parsed.data, polling };
}

function dropUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** The client's default workflow id: one running export per map and account. */
export function defaultWorkflowId(account: string, visualizationId: string): string {
  return `carto-export/${account}/${visualizationId}`;
}

/** Default object key, from the input and the workflow's own start time so replays compute the same key. */
export function defaultObjectKey(
  input: { account: string; visualizationId: string; prefix?: string },
  at: Date,
): string {
  const prefix = input.prefix ? (input.prefix.endsWith('/') ? input.prefix : `${input.prefix}/`) : '';
  const stamp = at
    .toISOString()
    .replace(/\.\d{3}Z$/, 'Z')
    .replace(/:/g, '-');
  return `${prefix}${input.account}/${input.visualizationId}/${stamp}.carto`;
}
