// Starts an HTTP emulator of CARTO's Visualization Export API v3, Import API v1 and map listing (the public API).
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Visualization } from './catalog';
import { createDispatcher } from './dispatch';
import { DownloadLog, type DownloadRecord } from './download-log';
import { ExportFiles } from './export-files';
import { ExportLinks, type UrlStyle } from './export-links';
import { exportRoutes } from './export-routes';
import { ExportService } from './export-service';
import { FaultInjector } from './fault-injector';
import { validateFaultRules, type FaultController, type FaultRule } from './faults';
import { importRoutes } from './import-routes';
import { ImportService } from './import-service';
import { seedCatalog } from './seed-catalog';
import { vizRoutes } from './viz-routes';

export interface EmulatorUser {
  name: string;
  apiKey: string;
}

export interface EmulatorOptions {
  /** 0 or undefined = a random free port. */
  port?: number;
  /** Default '127.0.0.1'. */
  host?: string;
  /** Default demo/demo-key and target/target-key. */
  users?: EmulatorUser[];
  /** Derived maps owned by the first user, default 3. */
  maps?: number;
  /** Bytes of each generated `.carto` file, default 5 MiB. */
  exportSize?: number;
  /** Milliseconds from POST until `complete`, default 10 s. */
  exportDuration?: number;
  /** Milliseconds an import takes to reach its final state, default 3 s. */
  importDuration?: number;
  /** Milliseconds a pre-signed download URL stays valid, default 2 h. */
  urlTtl?: number;
  /** Section 1.5 forms 1, 2, 3; default 'presigned' (absolute URL). */
  urlStyle?: UrlStyle;
  /** Unfinished imports a user may have before POSTs get 429, default 3. */
  maxConcurrentImports?: number;
  /** Where generated and uploaded files live; default a fresh temporary directory, removed on close. */
  dataDir?: string;
  /** Fault injection rules (see `faults.ts`); default none. Change them later through `RunningEmulator.faults`. */
  faults?: FaultRule[];
  /** Seed of the PRNG behind rate-based fault rules, a whole number in [0, 2^32); default 0. */
  seed?: number;
}

export interface EmulatorMap {
  id: string;
  name: string;
  owner: string;
  privacy: 'PUBLIC' | 'PRIVATE' | 'LINK' | 'PASSWORD';
  type: 'derived' | 'table';
  /** User table ids: what `user_tables_ids` takes (a dataset lists its own table). */
  tableIds: string[];
}

export interface RunningEmulator {
  /** e.g. http://127.0.0.1:41234 */
  url: string;
  /** `${url}/user/${user}`: the on-prem account URL form. */
  accountUrl(user: string): string;
  /** Maps visible in the emulator, optionally of one owner: derived maps first, then datasets. */
  maps(user?: string): EmulatorMap[];
  /** Path of the exact bytes served for a completed export. */
  exportFilePath(exportId: string): string | undefined;
  /** Maps created by imports into `user`: restored maps first, then the datasets of imported tables. */
  importedMaps(user: string): EmulatorMap[];
  /** Every export file served (optionally of one export), in order: status, first byte, bytes sent. */
  downloads(exportId?: string): DownloadRecord[];
  /** Fault injection: replace, add or clear rules and read what fired. */
  faults: FaultController;
  close(): Promise<void>;
}

export const DEFAULT_USERS: EmulatorUser[] = [
  { name: 'demo', apiKey: 'demo-key' },
  { name: 'target', apiKey: 'target-key' },
];

export async function startEmulator(options: EmulatorOptions = {}): Promise<RunningEmulator> {
  const settings = resolveOptions(options);
  const ownsDataDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'carto-emulator-')));
  const catalog = seedCatalog({ users: settings.users, maps: settings.maps });
  const shutdown = new AbortController();
  let origin = '';

  const links = new ExportLinks({
    style: settings.urlStyle,
    ttl: settings.urlTtl,
    secret: randomBytes(32),
    origin: () => origin,
  });
  const downloads = new DownloadLog();
  const faults = new FaultInjector({ rules: settings.faults, seed: settings.seed, signal: shutdown.signal });
  const exports = new ExportService({
    catalog,
    files: new ExportFiles(join(dataDir, 'exports'), settings.exportSize, shutdown.signal),
    links,
    duration: settings.exportDuration,
    injectedFault: (visualizationId) => faults.exportFault(visualizationId),
  });
  const imports = new ImportService({
    catalog,
    duration: settings.importDuration,
    maxConcurrent: settings.maxConcurrentImports,
    downloadsDirectory: join(dataDir, 'downloads'),
    signal: shutdown.signal,
  });
  const dispatch = createDispatcher({
    catalog,
    routes: {
      ...exportRoutes({ catalog, exports, links, downloads }),
      ...importRoutes({ imports, uploadsDirectory: join(dataDir, 'uploads') }),
      ...vizRoutes({ catalog, origin: () => origin, beforeRead: () => imports.settle(Date.now()) }),
    },
    interceptor: faults.intercept,
    onError: (error, route) =>
      process.stderr.write(`carto-emulator: ${route.name} failed: ${String(error)}\n`),
  });

  // Node cuts requests that take more than 5 minutes by default; multi-GiB uploads and downloads may.
  const server = createServer({ requestTimeout: 0 }, dispatch);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(settings.port, settings.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  origin = `http://${settings.host.includes(':') ? `[${settings.host}]` : settings.host}:${port}`;

  const toMap = (visualization: Visualization): EmulatorMap => ({
    id: visualization.id,
    name: visualization.name,
    owner: visualization.owner,
    privacy: visualization.privacy,
    type: visualization.type,
    tableIds: [...visualization.tableIds],
  });

  let closing: Promise<void> | undefined;
  return {
    url: origin,
    accountUrl: (user) => `${origin}/user/${user}`,
    maps(user) {
      imports.settle(Date.now());
      return derivedFirst(catalog.visualizations(user)).map(toMap);
    },
    exportFilePath: (exportId) => exports.filePath(exportId),
    importedMaps(user) {
      imports.settle(Date.now());
      const created = catalog
        .visualizations(user)
        .filter((visualization) => visualization.importId !== undefined);
      return derivedFirst(created).map(toMap);
    },
    downloads: (exportId) => downloads.list(exportId),
    faults,
    close() {
      closing ??= (async () => {
        shutdown.abort();
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
        if (ownsDataDir) await rm(dataDir, { recursive: true, force: true });
      })();
      return closing;
    },
  };
}

/** Maps before datasets, each in creation order, so `maps()[0]` is the first seeded map. */
function derivedFirst(visualizations: Visualization[]): Visualization[] {
  return [
    ...visualizations.filter((visualization) => visualization.type === 'derived'),
    ...visualizations.filter((visualization) => visualization.type === 'table'),
  ];
}

type Settings = Required<Omit<EmulatorOptions, 'dataDir'>>;

/** Validates once at the edge; errors name the offending option and value. */
function resolveOptions(options: EmulatorOptions): Settings {
  const settings: Settings = {
    port: options.port ?? 0,
    host: options.host ?? '127.0.0.1',
    users: options.users ?? DEFAULT_USERS,
    maps: options.maps ?? 3,
    exportSize: options.exportSize ?? 5 * 1024 * 1024,
    exportDuration: options.exportDuration ?? 10_000,
    importDuration: options.importDuration ?? 3_000,
    urlTtl: options.urlTtl ?? 2 * 3_600_000,
    urlStyle: options.urlStyle ?? 'presigned',
    maxConcurrentImports: options.maxConcurrentImports ?? 3,
    faults: validateFaultRules(options.faults ?? []),
    seed: options.seed ?? 0,
  };
  const wholeNumbers = ['port', 'maps', 'exportSize', 'exportDuration', 'importDuration', 'urlTtl'] as const;
  for (const name of wholeNumbers) {
    if (!Number.isSafeInteger(settings[name]) || settings[name] < 0) {
      throw new Error(`${name} must be a whole number >= 0, got ${settings[name]}`);
    }
  }
  if (!Number.isSafeInteger(settings.maxConcurrentImports) || settings.maxConcurrentImports < 1) {
    throw new Error(`maxConcurrentImports must be a whole number >= 1, got ${settings.maxConcurrentImports}`);
  }
  if (!Number.isSafeInteger(settings.seed) || settings.seed < 0 || settings.seed >= 2 ** 32) {
    throw new Error(`seed must be a whole number from 0 to 4294967295, got ${settings.seed}`);
  }
  if (!['presigned', 'uploads', 'download'].includes(settings.urlStyle)) {
    throw new Error(`urlStyle must be presigned, uploads or download, got ${settings.urlStyle}`);
  }
  if (settings.users.length === 0) throw new Error('users must name at least one user');
  const names = new Set<string>();
  for (const user of settings.users) {
    if (!/^[a-z0-9][a-z0-9-]*$/.test(user.name)) {
      throw new Error(
        `user name must be lower-case letters, digits and dashes, got ${JSON.stringify(user.name)}`,
      );
    }
    if (user.apiKey === '') throw new Error(`user ${user.name} needs a non-empty API key`);
    if (names.has(user.name)) throw new Error(`user ${user.name} is listed twice`);
    names.add(user.name);
  }
  return settings;
}
export type { DownloadRecord } from './download-log';
