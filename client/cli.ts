// The carto-ferry command line: start exports, watch, list, steer them, read their results; set up a cluster.
import { Client, Connection, WorkflowFailedError, WorkflowNotFoundError } from '@temporalio/client';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import ms from 'ms';
import { EXPORT_PHASES, type ExportPhase } from '../contract/export-messages';
import {
  DEFAULT_TASK_QUEUE,
  InvalidInputError,
  parseExportInput,
  type ExportVisualizationInput,
} from '../contract/export-visualization';
import { getExportResult, getExportStatus, startExport } from './export-client';
import { summarizeFailure } from './export-outcome';
import { getProgress, ProgressUnavailableError } from './export-progress';
import { formatExportTable } from './export-table';
import { listExports } from './list-exports';
import { registerSearchAttributes } from './register-search-attributes';
import { cancelExport, pollNow } from './steer-export';
import { watchCommand } from './watch-command';

/** Exit codes: 0 done, 1 the export failed or was not found (or the connection failed), 2 bad input. */
const EXIT_FAILED = 1;
const EXIT_BAD_INPUT = 2;

interface GlobalOptions {
  address: string;
  namespace: string;
  taskQueue: string;
}

interface ListOptions {
  account?: string;
  phase?: ExportPhase;
  running?: boolean;
  limit: number;
  json?: boolean;
}

interface ExportOptions {
  account: string;
  viz: string;
  userTables?: string;
  bucket?: string;
  key?: string;
  prefix?: string;
  importInto?: string;
  importVia?: 'url' | 'upload';
  privacy?: 'public' | 'private' | 'link';
  collisionStrategy?: 'skip' | 'overwrite';
  createVisualization: boolean;
  pollInterval?: string;
  maxPollInterval?: string;
  timeout?: string;
  workflowId?: string;
  wait?: boolean;
}

export function buildProgram(): Command {
  const program = new Command('carto-ferry')
    .description('Durable CARTO map exports into S3, on Temporal')
    .addOption(
      new Option('--address <host:port>', 'Temporal frontend')
        .env('TEMPORAL_ADDRESS')
        .default('localhost:7233'),
    )
    .addOption(
      new Option('--namespace <name>', 'Temporal namespace').env('TEMPORAL_NAMESPACE').default('default'),
    )
    .addOption(
      new Option('--task-queue <name>', 'task queue of the worker')
        .env('CARTO_FERRY_TASK_QUEUE')
        .default(DEFAULT_TASK_QUEUE),
    )
    .showHelpAfterError()
    .exitOverride();

  program
    .command('export')
    .description('export a map into S3 (and optionally import it into another account)')
    .requiredOption('--account <alias>', 'source account alias configured on the worker')
    .requiredOption('--viz <id>', 'map (visualization) UUID')
    .option('--user-tables <ids>', 'comma-separated user table UUIDs to include')
    .option('--bucket <name>', 'destination bucket (default: the worker CARTO_FERRY_BUCKET)')
    .option('--key <key>', 'destination object key')
    .option('--prefix <prefix>', 'prefix for the default object key')
    .option('--import-into <alias>', 'import the file into this account once it is in S3')
    .addOption(new Option('--import-via <how>', 'how CARTO receives the file').choices(['url', 'upload']))
    .addOption(
      new Option('--privacy <privacy>', 'privacy of imported datasets').choices([
        'public',
        'private',
        'link',
      ]),
    )
    .addOption(
      new Option('--collision-strategy <strategy>', 'when imported table names exist').choices([
        'skip',
        'overwrite',
      ]),
    )
    .option('--no-create-visualization', 'import the datasets only, not the map')
    .option('--poll-interval <duration>', "first wait between polls, e.g. '5s'")
    .option('--max-poll-interval <duration>', "longest wait between polls, e.g. '5m'")
    .option('--timeout <duration>', "give up waiting after, e.g. '2 days'")
    .option('--workflow-id <id>', 'workflow id (default carto-export/{account}/{viz})')
    .option('--wait', 'wait for the result and print it')
    .action(async (options: ExportOptions, command: Command) => {
      const global = command.optsWithGlobals<GlobalOptions>();
      const input = exportInputFrom(options);
      parseExportInput(input); // before connecting: bad input never reaches Temporal
      const client = await connect(global);
      const started = await startExport(client, input, {
        workflowId: options.workflowId,
        taskQueue: global.taskQueue,
      });
      console.error(
        `${started.attached ? 'Attached to running' : 'Started'} export ${started.workflowId} (run ${started.runId})`,
      );
      if (options.wait) {
        printJson(await getExportResult(client, started.workflowId));
      } else {
        printJson({ workflowId: started.workflowId, runId: started.runId, attached: started.attached });
      }
    });

  program
    .command('status <workflowId>')
    .description('show where an export stands: workflow status and its progress query')
    .action(async (workflowId: string, _options: unknown, command: Command) => {
      const client = await connect(command.optsWithGlobals<GlobalOptions>());
      const status = await getExportStatus(client, workflowId);
      const progress = await getProgress(client, workflowId).catch((error: unknown) => {
        if (!(error instanceof ProgressUnavailableError)) throw error;
        console.error(`carto-ferry: ${error.message}`);
        return null;
      });
      printJson({ ...status, progress });
    });

  program
    .command('watch <workflowId>')
    .description('follow an export until it ends; exit 0 if it completed, 1 if not')
    .addOption(
      new Option('--interval <duration>', 'time between progress queries')
        .argParser(parseDuration)
        .default(1_000, '1s'),
    )
    .option('--plain', 'a line per change even on a terminal')
    .action(async (workflowId: string, options: { interval: number; plain?: boolean }, command: Command) => {
      const client = await connect(command.optsWithGlobals<GlobalOptions>());
      const code = await watchCommand(client, workflowId, {
        intervalMs: options.interval,
        live: !options.plain && process.stdout.isTTY === true && process.env.TERM !== 'dumb',
        stdout: process.stdout,
        stderr: process.stderr,
      });
      if (code !== 0) throw new ExitCode(code);
    });

  program
    .command('list')
    .description('list exports, newest first (search attributes CartoAccount, CartoPhase)')
    .option('--account <alias>', 'only exports from this source account')
    .addOption(new Option('--phase <phase>', 'only exports in this phase').choices(EXPORT_PHASES))
    .option('--running', 'only exports still running')
    .option('--limit <n>', 'at most this many', parseLimit, 100)
    .option('--json', 'print JSON instead of a table')
    .action(async (options: ListOptions, command: Command) => {
      const client = await connect(command.optsWithGlobals<GlobalOptions>());
      const listings = await listExports(client, options);
      if (options.json) printJson(listings);
      else console.log(listings.length ? formatExportTable(listings) : 'No exports found.');
    });

  program
    .command('cancel <workflowId>')
    .description('cancel a running export (its workflow ends CANCELLED, phase cancelled)')
    .action(async (workflowId: string, _options: unknown, command: Command) => {
      const client = await connect(command.optsWithGlobals<GlobalOptions>());
      await cancelExport(client, workflowId);
      console.log(`Cancellation requested for ${workflowId}`);
    });

  program
    .command('poll-now <workflowId>')
    .description('make a waiting export (or import) poll CARTO now instead of at the end of its wait')
    .action(async (workflowId: string, _options: unknown, command: Command) => {
      const client = await connect(command.optsWithGlobals<GlobalOptions>());
      await pollNow(client, workflowId);
      console.log(`Asked ${workflowId} to poll now`);
    });

  program
    .command('setup')
    .description("register carto-ferry's search attributes in the namespace (safe to run again)")
    .action(async (_options: unknown, command: Command) => {
      const global = command.optsWithGlobals<GlobalOptions>();
      const client = await connect(global);
      const registered = await registerSearchAttributes(client.connection, global.namespace);
      for (const { name, type, outcome } of registered) {
        console.log(`${name} (${type}): ${outcome === 'added' ? 'added' : 'already registered'}`);
      }
      const added = registered.filter((r) => r.outcome === 'added').length;
      console.log(
        `Namespace ${global.namespace}: ${added} search attribute(s) added, ${registered.length - added} already present.`,
      );
    });

  program
    .command('result <workflowId>')
    .description('wait for an export to finish and print its result')
    .action(async (workflowId: string, _options: unknown, command: Command) => {
      const client = await connect(command.optsWithGlobals<GlobalOptions>());
      printJson(await getExportResult(client, workflowId));
    });

  return program;
}

function exportInputFrom(options: ExportOptions): ExportVisualizationInput {
  const polling = {
    ...(options.pollInterval ? { initialInterval: options.pollInterval } : {}),
    ...(options.maxPollInterval ? { maxInterval: options.maxPollInterval } : {}),
    ...(options.timeout ? { timeout: options.timeout } : {}),
  };
  const destination = {
    ...(options.bucket ? { bucket: options.bucket } : {}),
    ...(options.key ? { key: options.key } : {}),
    ...(options.prefix ? { prefix: options.prefix } : {}),
  };
  return {
    source: {
      account: options.account,
      visualizationId: options.viz,
      ...(options.userTables ? { userTablesIds: options.userTables.split(',').map((id) => id.trim()) } : {}),
    },
    ...(Object.keys(destination).length ? { destination } : {}),
    ...(options.importInto
      ? {
          import: {
            account: options.importInto,
            createVisualization: options.createVisualization,
            ...(options.privacy ? { privacy: options.privacy } : {}),
            ...(options.collisionStrategy ? { collisionStrategy: options.collisionStrategy } : {}),
            ...(options.importVia ? { via: options.importVia } : {}),
          },
        }
      : {}),
    ...(Object.keys(polling).length ? { polling } : {}),
  };
}

async function connect(options: GlobalOptions): Promise<Client> {
  try {
    const connection = await Connection.connect({ address: options.address, connectTimeout: '10s' });
    return new Client({ connection, namespace: options.namespace });
  } catch (error) {
    throw new ConnectionProblem(`Cannot reach Temporal at ${options.address}: ${(error as Error).message}`);
  }
}

class ConnectionProblem extends Error {}

/** Ends the command with this exit code; the command has already said why. */
class ExitCode extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}

function parseDuration(value: string): number {
  const millis = ms(value as ms.StringValue);
  if (typeof millis !== 'number' || !Number.isFinite(millis) || millis <= 0) {
    throw new InvalidArgumentError(
      `expected a positive duration like '1s' or '500ms', got ${JSON.stringify(value)}`,
    );
  }
  return millis;
}

function parseLimit(value: string): number {
  const limit = Number(value);
  if (!Number.isSafeInteger(limit) || limit < 1) {
    throw new InvalidArgumentError(`expected a whole number >= 1, got ${JSON.stringify(value)}`);
  }
  return limit;
}

function printJson(value: unknown): void {
  console.log(JSON.stringify(value, null, 2));
}

/** Runs the CLI and returns the exit code, so tests can drive it in-process too. */
export async function runCli(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (error) {
    return reportError(error);
  }
}

function reportError(error: unknown): number {
  if (error instanceof CommanderError) {
    // Help and version exit 0; anything else commander rejects is a usage error it has already printed.
    return error.exitCode === 0 ? 0 : EXIT_BAD_INPUT;
  }
  if (error instanceof InvalidInputError) {
    console.error(`carto-ferry: invalid input, nothing was started:\n  - ${error.problems.join('\n  - ')}`);
    return EXIT_BAD_INPUT;
  }
  if (error instanceof ExitCode) return error.code;
  if (error instanceof WorkflowFailedError) {
    const { type, message } = summarizeFailure(error);
    console.error(`carto-ferry: export failed: ${type}: ${message}`);
    return EXIT_FAILED;
  }
  if (error instanceof WorkflowNotFoundError) {
    console.error(`carto-ferry: no such export: ${error.workflowId}`);
    return EXIT_FAILED;
  }
  console.error(`carto-ferry: ${error instanceof Error ? error.message : String(error)}`);
  return EXIT_FAILED;
}

if (require.main === module) {
  runCli(process.argv.slice(2)).then((code) => process.exit(code));
}
