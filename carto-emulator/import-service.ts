// Runs imports: really fetches and checks each file, and on completion registers its tables and restored map.
import { join } from 'node:path';
import type { Account, Catalog, TablePrivacy, Visualization, VisualizationPrivacy } from './catalog';
import { downloadToDirectory } from './import-download';
import { inspectImportFile, type Inspection } from './import-inspection';
import {
  importStatus,
  presentImport,
  type ImportJob,
  type ImportResult,
  type ImportStatus,
} from './import-jobs';
import { availableMapName, availableTableName, validTableName } from './import-names';
import type { ImportOptions } from './import-options';
import type { ReceivedFile } from './import-upload';
import { randomId } from './ids';

export type ImportSource =
  | { kind: 'url'; url: string }
  | { kind: 'file'; file: ReceivedFile }
  | { kind: 'connector' }
  | { kind: 'query' }
  | { kind: 'none' };

const DAY = 86_400_000;

/** `DataImport#data_source=`: a URL or an uploaded file; with neither (connectors, bare POSTs) it is `datasource`. */
const DATA_TYPES: Record<ImportSource['kind'], ImportJob['dataType']> = {
  url: 'url',
  file: 'file',
  query: 'query',
  connector: 'datasource',
  none: 'datasource',
};

export class ImportService {
  readonly #catalog: Catalog;
  readonly #duration: number;
  readonly #maxConcurrent: number;
  readonly #downloadsDirectory: string;
  readonly #signal: AbortSignal;
  readonly #jobs = new Map<string, ImportJob>();

  constructor(options: {
    catalog: Catalog;
    duration: number;
    maxConcurrent: number;
    downloadsDirectory: string;
    signal: AbortSignal;
  }) {
    this.#catalog = options.catalog;
    this.#duration = options.duration;
    this.#maxConcurrent = options.maxConcurrent;
    this.#downloadsDirectory = options.downloadsDirectory;
    this.#signal = options.signal;
  }

  get maxConcurrent(): number {
    return this.#maxConcurrent;
  }

  /** The server's Redis counter is incremented per POST and decremented when an import ends: unfinished imports. */
  hasFreeSlot(user: Account, now: number): boolean {
    const running = this.#jobsOf(user.name).filter((job) => !this.status(job, now).final).length;
    return running + 1 <= this.#maxConcurrent;
  }

  create(user: Account, options: ImportOptions, source: ImportSource, now: number): ImportJob {
    const job: ImportJob = {
      id: randomId(),
      userName: user.name,
      userId: user.id,
      createdAt: now,
      options,
      dataType: DATA_TYPES[source.kind],
      dataSource: source.kind === 'url' ? source.url : source.kind === 'file' ? source.file.path : '',
      work: { status: 'running' },
    };
    this.#jobs.set(job.id, job);
    void this.#run(job, source).then(
      (outcome) => (job.work = { status: 'done', at: Date.now(), outcome }),
      () =>
        (job.work = {
          status: 'done',
          at: Date.now(),
          outcome: { ok: false, errorCode: 99999, stage: 'importing' },
        }),
    );
    return job;
  }

  job(id: string): ImportJob | undefined {
    return this.#jobs.get(id.toLowerCase());
  }

  /** The state now; the first time a job is seen complete its tables and map are registered. */
  status(job: ImportJob, now: number): ImportStatus {
    const status = importStatus(job, now, this.#duration);
    if (status.state === 'complete' && !job.result && job.work.status === 'done' && job.work.outcome.ok) {
      job.result = this.#register(job, job.work.outcome);
    }
    return status;
  }

  present(job: ImportJob, now: number): Record<string, unknown> {
    return presentImport(job, this.status(job, now));
  }

  /** GET /api/v1/imports: the user's unfinished imports of the last 24 h, newest first. */
  recentUnfinished(user: Account, now: number): ImportJob[] {
    return this.#jobsOf(user.name)
      .filter((job) => job.createdAt > now - DAY && !this.status(job, now).final)
      .sort((a, b) => b.createdAt - a.createdAt);
  }

  /** Brings every job up to date, so listings see the maps and tables of imports that completed meanwhile. */
  settle(now: number): void {
    for (const job of this.#jobs.values()) this.status(job, now);
  }

  #jobsOf(userName: string): ImportJob[] {
    return [...this.#jobs.values()].filter((job) => job.userName === userName);
  }

  async #run(job: ImportJob, source: ImportSource): Promise<Inspection> {
    switch (source.kind) {
      case 'url': {
        const download = await downloadToDirectory(
          source.url,
          join(this.#downloadsDirectory, job.id),
          this.#signal,
        );
        job.httpStatus = download.httpStatus;
        if (!download.ok) return { ok: false, errorCode: download.errorCode, stage: 'uploading' };
        return this.#requireTables(
          job,
          await inspectImportFile(download.path, download.filename, download.contentType),
        );
      }
      case 'file':
        return this.#requireTables(job, await inspectImportFile(source.file.path, source.file.filename));
      case 'connector':
        return { ok: false, errorCode: 1501, stage: 'uploading' };
      case 'query':
        // There is no database behind the emulator to run `sql`/`table_copy` against.
        return { ok: false, errorCode: 8003, stage: 'importing' };
      case 'none':
        // With no file and no URL the data source is '': the Downloader takes it for a local path and the unpacker
        // raises NotAFileError, code 1010, which has no entry in the error table (get_error_text stays null).
        return { ok: false, errorCode: 1010, stage: 'unpacking' };
    }
  }

  /** `run_import!`: no table results fail with 1002, unless collision_strategy=skip (then it completes with 1022). */
  #requireTables(job: ImportJob, inspection: Inspection): Inspection {
    const nothingToImport = inspection.ok && inspection.tables.length === 0;
    if (nothingToImport && job.options.collisionStrategy !== 'skip') {
      return { ok: false, errorCode: 1002, stage: 'importing' };
    }
    return inspection;
  }

  /**
   * Registers the tables (renamed `t` → `t_1` on collision, skipped or overwritten per collision_strategy) and, with
   * create_vis, the restored map: a new id, a unique name, its layers pointed at the tables as finally named.
   */
  #register(job: ImportJob, outcome: Extract<Inspection, { ok: true }>): ImportResult {
    const at = new Date().toISOString();
    const privacy = (job.options.privacy?.toUpperCase() ?? 'PRIVATE') as TablePrivacy;
    const finalNames = new Map<string, string>();
    let created = 0;
    let first: { id: string; name: string } | undefined;
    for (const original of outcome.tables) {
      const name = validTableName(original);
      const existing = this.#catalog.tableByName(job.userName, name);
      if (existing && job.options.collisionStrategy === 'skip') {
        finalNames.set(original, existing.name);
        continue;
      }
      if (existing && job.options.collisionStrategy === 'overwrite') {
        this.#catalog.touchTable(existing, at);
        finalNames.set(original, existing.name);
        first ??= existing;
        created += 1;
        continue;
      }
      const taken = new Set(this.#catalog.tables(job.userName).map((table) => table.name));
      const table = this.#catalog.addTable({
        owner: job.userName,
        name: availableTableName(name, taken),
        privacy,
        rowCount: 0,
        createdAt: at,
        importId: job.id,
      });
      finalNames.set(original, table.name);
      first ??= table;
      created += 1;
    }
    let visualization: Visualization | undefined;
    if (job.options.createVisualization && (outcome.visualization || first)) {
      visualization = this.#restoreMap(job, outcome, finalNames, at);
    }
    const allSkipped = created === 0 && job.options.collisionStrategy === 'skip';
    return {
      tablesCreated: created,
      tableId: first?.id ?? null,
      tableName: first?.name ?? null,
      visualizationId: visualization?.id ?? null,
      errorCode: allSkipped ? 1022 : null,
    };
  }

  #restoreMap(
    job: ImportJob,
    outcome: Extract<Inspection, { ok: true }>,
    finalNames: Map<string, string>,
    at: string,
  ): Visualization {
    const source = outcome.visualization;
    // Layers keep pointing at existing tables when they were skipped, as the server's restore does.
    const layerTables = source
      ? source.layerTables.map((name) => finalNames.get(name) ?? validTableName(name))
      : [];
    const names = layerTables.length > 0 ? layerTables : [...finalNames.values()];
    const tableIds = [...new Set(names)].flatMap(
      (name) => this.#catalog.tableByName(job.userName, name)?.id ?? [],
    );
    const taken = new Set(
      this.#catalog
        .visualizations(job.userName)
        .filter((v) => v.type === 'derived')
        .map((v) => v.name),
    );
    const privacy = (source?.privacy ?? 'public').toUpperCase();
    return this.#catalog.addDerived({
      id: randomId(),
      name: availableMapName(source?.name ?? `${names[0] ?? 'Untitled'} map`, taken),
      owner: job.userName,
      privacy: (['PUBLIC', 'PRIVATE', 'LINK', 'PASSWORD'].includes(privacy)
        ? privacy
        : 'PUBLIC') as VisualizationPrivacy,
      tableIds,
      description: source?.description ?? '',
      createdAt: at,
      updatedAt: at,
      importId: job.id,
    });
  }
}
