// The carto-ferry command line: start exports, check their status, read their results.
import { Client, Connection, WorkflowFailedError, WorkflowNotFoundError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { Command, CommanderError, Option } from 'commander';
import {
  DEFAULT_TASK_QUEUE,
  InvalidInputError,
  parseExportInput,
  type ExportVisualizationInput,
} from '../contract/export-visualization';
import { getExportResult, getExportStatus, startExport } from './export-client';

/** Exit codes: 0 done, 1 the export or the connection failed, 2 bad input (nothing was started). */
const EXIT_FAILED = 1;
const EXIT_BAD_INPUT = 2;

interface GlobalOptions {
  address: string;
  namespace: string;
  taskQueue: string;
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
    .description('show where an export stands')
    .action(async (workflowId: string, _options: unknown, command: Command) => {
      const client = await connect(command.optsWithGlobals<GlobalOptions>());
      printJson(await getExportStatus(client, workflowId));
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
  if (error instanceof WorkflowFailedError) {
    const cause = error.cause;
    const type = cause instanceof ApplicationFailure ? cause.type : cause?.name;
    console.error(`carto-ferry: export failed: ${type ?? 'Failure'}: ${cause?.message ?? error.message}`);
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
