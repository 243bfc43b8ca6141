// Command line entry point: runs the CARTO emulator until Ctrl-C and prints what a user needs to try it.
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import ms from 'ms';
import { parseDuration, parseSize } from './cli-values';
import {
  DEFAULT_USERS,
  startEmulator,
  type EmulatorMap,
  type EmulatorOptions,
  type EmulatorUser,
  type RunningEmulator,
} from './emulator';
import type { UrlStyle } from './export-links';
import { FAULT_SPEC_HELP, formatFaultRule, parseFaultSpec } from './fault-specs';
import type { FaultRule } from './faults';

/** Usage errors exit with 2, like most Unix tools; runtime failures (a taken port) with 1. */
const USAGE_EXIT = 2;

function asParser<T>(parse: (text: string) => T): (text: string) => T {
  return (text) => {
    try {
      return parse(text);
    } catch (error) {
      throw new InvalidArgumentError((error as Error).message);
    }
  };
}

function parseCount(minimum: number): (text: string) => number {
  return asParser((text) => {
    const value = Number(text);
    if (!/^\d+$/.test(text.trim()) || value < minimum)
      throw new Error(`expected a whole number >= ${minimum}`);
    return value;
  });
}

function collectUser(text: string, previous: EmulatorUser[] | undefined): EmulatorUser[] {
  const match = /^([a-z0-9][a-z0-9-]*):(.+)$/.exec(text);
  if (!match)
    throw new InvalidArgumentError('expected name:apikey with a lower-case user name, e.g. demo:demo-key');
  return [...(previous ?? []), { name: match[1], apiKey: match[2] }];
}

function collectFault(text: string, previous: FaultRule[] | undefined): FaultRule[] {
  return [...(previous ?? []), asParser(parseFaultSpec)(text)];
}

function parseSeed(text: string): number {
  const value = Number(text);
  if (!/^\d+$/.test(text.trim()) || value >= 2 ** 32) {
    throw new InvalidArgumentError('expected a whole number from 0 to 4294967295');
  }
  return value;
}

function program(): Command {
  return new Command('carto-emulator')
    .description("Emulates CARTO's Visualization Export API v3, Import API v1 and map listing over HTTP")
    .option('--port <port>', 'port to listen on (0 = a random free port)', parseCount(0), 0)
    .option('--host <host>', 'address to bind', '127.0.0.1')
    .option(
      '--user <name:apikey>',
      'a user and its master API key (repeatable; default demo and target)',
      collectUser,
    )
    .option('--maps <count>', 'derived maps owned by the first user', parseCount(0), 3)
    .option(
      '--export-size <size>',
      'size of each generated .carto file (5MiB, 1GiB, 500KB, bytes)',
      asParser(parseSize),
    )
    .option(
      '--export-duration <duration>',
      'time from export POST to complete (10s, 500ms)',
      asParser(parseDuration),
    )
    .option('--import-duration <duration>', 'time an import takes to finish (3s)', asParser(parseDuration))
    .option('--url-ttl <duration>', 'validity of pre-signed download URLs (2h)', asParser(parseDuration))
    .addOption(
      new Option(
        '--url-style <style>',
        'form of the export url: absolute pre-signed, /uploads/ path or API download path',
      )
        .choices(['presigned', 'uploads', 'download'])
        .default('presigned'),
    )
    .option('--max-concurrent-imports <count>', 'unfinished imports per user before 429', parseCount(1))
    .option('--data-dir <dir>', 'keep generated and uploaded files here (default: a temporary directory)')
    .option(
      '--fault <spec>',
      'make an endpoint misbehave: endpoint:fault[:key=value,...] (repeatable; see below)',
      collectFault,
    )
    .option(
      '--fault-seed <seed>',
      'seed of the random draws of rate= faults, for reproducible runs',
      parseSeed,
      0,
    )
    .addHelpText('after', FAULT_SPEC_HELP)
    .exitOverride()
    .configureOutput({
      outputError: (text, write) => write(`carto-emulator: ${text.replace(/^error: /, '')}`),
    });
}

async function main(argv: string[]): Promise<void> {
  const command = program();
  try {
    command.parse(argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      process.exit(
        error.code === 'commander.helpDisplayed' || error.code === 'commander.version' ? 0 : USAGE_EXIT,
      );
    }
    throw error;
  }
  const flags = command.opts<{
    port: number;
    host: string;
    user?: EmulatorUser[];
    maps: number;
    exportSize?: number;
    exportDuration?: number;
    importDuration?: number;
    urlTtl?: number;
    urlStyle: UrlStyle;
    maxConcurrentImports?: number;
    dataDir?: string;
    fault?: FaultRule[];
    faultSeed: number;
  }>();
  const options: EmulatorOptions = {
    port: flags.port,
    host: flags.host,
    users: flags.user,
    maps: flags.maps,
    exportSize: flags.exportSize,
    exportDuration: flags.exportDuration,
    importDuration: flags.importDuration,
    urlTtl: flags.urlTtl,
    urlStyle: flags.urlStyle,
    maxConcurrentImports: flags.maxConcurrentImports,
    dataDir: flags.dataDir,
    faults: flags.fault,
    seed: flags.faultSeed,
  };
  let emulator: RunningEmulator;
  try {
    emulator = await startEmulator(options);
  } catch (error) {
    process.stderr.write(`carto-emulator: ${(error as Error).message}\n`);
    process.exit((error as NodeJS.ErrnoException).code === undefined ? USAGE_EXIT : 1);
  }
  let stopping = false;
  const stop = () => {
    // A second Ctrl-C means "now": skip waiting for open downloads to end.
    if (stopping) process.exit(130);
    stopping = true;
    process.stdout.write('\nStopping the CARTO emulator…\n');
    void emulator.close().then(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  // Printed only once Ctrl-C is handled, so whoever reacts to the banner can already stop the emulator cleanly.
  printBanner(emulator.url, options, emulator.maps(), emulator.accountUrl);
}

function printBanner(
  url: string,
  options: EmulatorOptions,
  maps: EmulatorMap[],
  accountUrl: (user: string) => string,
): void {
  const users = options.users ?? DEFAULT_USERS;
  const size = options.exportSize ?? 5 * 1024 * 1024;
  const lines = [
    `CARTO emulator listening on ${url}`,
    `  exports complete after ${ms(options.exportDuration ?? 10_000)}, imports finish after ${ms(
      options.importDuration ?? 3_000,
    )}, .carto files of ${(size / 1024 / 1024).toFixed(1)} MiB, export urls: ${options.urlStyle ?? 'presigned'}` +
      (options.urlStyle === 'presigned' || options.urlStyle === undefined
        ? ` (valid ${ms(options.urlTtl ?? 7_200_000)})`
        : ''),
    ...(options.faults && options.faults.length > 0
      ? [
          `  faults (seed ${options.seed ?? 0}, first that fires wins): ` +
            options.faults.map(formatFaultRule).join('  '),
        ]
      : []),
    '',
    'Users (account URL, master API key):',
    ...users.map((user) => `  ${user.name.padEnd(12)} ${accountUrl(user.name).padEnd(40)} ${user.apiKey}`),
    '',
    'Maps (id, privacy, owner, name, user_tables_ids):',
    ...maps
      .filter((map) => map.type === 'derived')
      .map(
        (map) =>
          `  ${map.id}  ${map.privacy.padEnd(8)} ${map.owner.padEnd(8)} ${map.name}  [${map.tableIds.join(',')}]`,
      ),
    '',
    'Datasets (id, privacy, owner, table):',
    ...maps
      .filter((map) => map.type === 'table')
      .map((map) => `  ${map.id}  ${map.privacy.padEnd(8)} ${map.owner.padEnd(8)} ${map.name}`),
    '',
    `Try: curl -X POST '${accountUrl(users[0].name)}/api/v3/visualization_exports?api_key=${users[0].apiKey}' ` +
      `-H 'Content-Type: application/json' -d '{"visualization_id":"${maps.find((map) => map.type === 'derived')?.id ?? '<map id>'}"}'`,
    'Press Ctrl-C to stop.',
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

void main(process.argv);
