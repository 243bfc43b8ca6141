// Creates visualization exports under CARTO's validation rules and tracks their jobs and files.
import type { Account, Catalog, Visualization } from './catalog';
import type { ExportFiles } from './export-files';
import {
  exportFilename,
  exportStatus,
  presentExport,
  type ExportFault,
  type ExportJob,
  type ExportStatus,
} from './export-jobs';
import { contentDisposition, type ExportLinks } from './export-links';
import type { ServedFile } from './file-response';
import { randomId, uploadToken } from './ids';
import { inspectStrings } from './ruby-inspect';
import { canRead, canView } from './visibility';

export type CreateExportResult =
  { ok: true; job: ExportJob } | { ok: false; status: 403 | 422; message: string };

export class ExportService {
  readonly #catalog: Catalog;
  readonly #files: ExportFiles;
  readonly #links: ExportLinks;
  readonly #duration: number;
  readonly #injectedFault: (visualizationId: string) => ExportFault | undefined;
  readonly #jobs = new Map<string, ExportJob>();

  constructor(options: {
    catalog: Catalog;
    files: ExportFiles;
    links: ExportLinks;
    duration: number;
    /** Asked once per created export whether fault injection scripts its end. */
    injectedFault?: (visualizationId: string) => ExportFault | undefined;
  }) {
    this.#catalog = options.catalog;
    this.#files = options.files;
    this.#links = options.links;
    this.#duration = options.duration;
    this.#injectedFault = options.injectedFault ?? (() => undefined);
  }

  /**
   * `VisualizationExport` validations, all evaluated as the model does: viewing rights, then user_tables_ids, then
   * the type. Any `user` error makes the whole message a 403, otherwise it is a 422; the message lists every error.
   */
  create(
    visualization: Visualization,
    viewer: Account | undefined,
    userTablesIds: string | undefined,
    now: number,
  ): CreateExportResult {
    const errors: { attribute: 'user' | 'user_tables_ids' | 'visualization'; message: string }[] = [];
    if (!canView(visualization, viewer)) {
      errors.push({ attribute: 'user', message: 'User Must be able to view the visualization' });
    }
    const readable = visualization.tableIds.flatMap((id) => {
      const table = this.#catalog.table(id);
      return table && canRead(table, viewer) ? [table] : [];
    });
    const requested =
      userTablesIds !== undefined && userTablesIds.trim() !== '' ? rubySplit(userTablesIds) : undefined;
    for (const id of requested ?? []) {
      if (!readable.some((table) => table.id === id)) {
        errors.push({
          attribute: 'user_tables_ids',
          message: `User tables ids User table ${id} is not related to visualization ${visualization.id}`,
        });
      }
    }
    if (visualization.type !== 'derived') {
      errors.push({
        attribute: 'visualization',
        message: 'Visualization Only derived visualizations can be exported',
      });
    }
    if (errors.length > 0) {
      const status = errors.some((error) => error.attribute === 'user') ? 403 : 422;
      return {
        ok: false,
        status,
        message: `Errors: ${inspectStrings(errors.map((error) => error.message))}`,
      };
    }
    const dataTables = requested ? readable.filter((table) => requested.includes(table.id)) : readable;
    const layerTables = visualization.tableIds.flatMap((id) => this.#catalog.table(id)?.name ?? []);
    const job: ExportJob = {
      id: randomId(),
      visualizationId: visualization.id,
      mapName: visualization.name,
      userId: viewer?.id ?? null,
      createdAt: now,
      token: uploadToken(),
      fault: this.#injectedFault(visualization.id),
      file: { status: 'generating' },
    };
    this.#jobs.set(job.id, job);
    // A job scripted to fail or hang never serves a file, so none is generated.
    if (job.fault !== undefined) return { ok: true, job };
    this.#files.fileFor(visualization, layerTables, dataTables).then(
      (file) => (job.file = { status: 'ready', file, readyAt: Date.now() }),
      () => (job.file = { status: 'failed', failedAt: Date.now() }),
    );
    return { ok: true, job };
  }

  job(id: string): ExportJob | undefined {
    return this.#jobs.get(id.toLowerCase());
  }

  jobByToken(token: string): ExportJob | undefined {
    return [...this.#jobs.values()].find((job) => job.token === token);
  }

  status(job: ExportJob, now: number): ExportStatus {
    return exportStatus(job, now, this.#duration);
  }

  /** The job as GET shows it now, or as POST shows it (`created`): the freshly saved row, always pending. */
  present(job: ExportJob, now: number | 'created'): Record<string, unknown> {
    const status: ExportStatus =
      now === 'created' ? { state: 'pending', since: job.createdAt } : this.status(job, now);
    return presentExport(
      job,
      status,
      status.state === 'complete' ? this.#links.urlFor(job, status.since) : null,
    );
  }

  /** The file a download serves, once the job is complete; its name and dates are those of the completion. */
  served(job: ExportJob, now: number): (ServedFile & { filename: string }) | undefined {
    const status = this.status(job, now);
    if (status.state !== 'complete' || job.file.status !== 'ready') return undefined;
    const filename = exportFilename(job.mapName, status.since);
    return {
      ...job.file.file,
      filename,
      lastModified: new Date(status.since),
      contentDisposition: contentDisposition(filename),
    };
  }

  /** Path of the generated file behind an export, once generated (tests compare downloads with it). */
  filePath(id: string): string | undefined {
    const job = this.job(id);
    return job?.file.status === 'ready' ? job.file.file.path : undefined;
  }
}

/** Ruby's `String#split(',')`: empty fields are kept except at the end. */
function rubySplit(value: string): string[] {
  const parts = value.split(',');
  while (parts.length > 0 && parts[parts.length - 1] === '') parts.pop();
  return parts;
}
