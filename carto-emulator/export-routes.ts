// HTTP handlers of the Visualization Export API v3 and of the storage paths its `url` points to.
import type { Catalog } from './catalog';
import type { RequestContext, RouteBinding } from './dispatch';
import type { DownloadLog } from './download-log';
import type { ExportJob } from './export-jobs';
import type { ExportLinks } from './export-links';
import type { ExportService } from './export-service';
import { sendFile, type ServedFile } from './file-response';
import { sendCartoError, sendJsonp, sendRoutingNotFound, sendS3Error } from './http-responses';
import { isUuid } from './ids';

export function exportRoutes(options: {
  catalog: Catalog;
  exports: ExportService;
  links: ExportLinks;
  downloads: DownloadLog;
}): Record<
  'export.create' | 'export.show' | 'export.download' | 'storage.presigned' | 'storage.uploads',
  RouteBinding
> {
  const { catalog, exports, links, downloads } = options;

  async function serve(context: RequestContext, job: ExportJob, file: ServedFile): Promise<void> {
    const delivery = await sendFile(context.req, context.res, file);
    downloads.add({
      exportId: job.id,
      status: delivery.status,
      rangeStart: delivery.start,
      bytesSent: delivery.bytesSent,
    });
  }

  /** `load_visualization_export`: UUID check, existence, then only its exporter (if any) may read it. */
  function loadJob(
    context: RequestContext,
    parameter: 'id' | 'visualization_export_id',
  ): ExportJob | undefined {
    const id = context.route.params.id;
    if (!isUuid(id)) {
      // The real controller leaves this error unrescued (a 500); the lenient answer is the error's own 400.
      sendCartoError(context.res, 400, `Parameter not UUID format. Parameter: ${parameter}. Value: ${id}`);
      return undefined;
    }
    const job = exports.job(id);
    if (!job) {
      sendCartoError(context.res, 404, `Visualization export not found: ${id}`);
      return undefined;
    }
    if (job.userId !== null && context.viewer?.id !== job.userId) {
      sendCartoError(context.res, 403, "You don't have permission to access that resource");
      return undefined;
    }
    return job;
  }

  return {
    'export.create': {
      body: 'params',
      async handle(context) {
        const raw = context.params.get('visualization_id');
        const visualizationId = raw === undefined || raw === null ? '' : String(raw);
        const visualization = isUuid(visualizationId) ? catalog.visualization(visualizationId) : undefined;
        if (!visualization) {
          sendCartoError(context.res, 404, `Visualization not found: ${visualizationId}`);
          return;
        }
        const tablesParam = context.params.get('user_tables_ids');
        // A JSON array is accepted as the comma list it stands for; the real server only takes the string.
        const userTablesIds = Array.isArray(tablesParam)
          ? tablesParam.join(',')
          : typeof tablesParam === 'string'
            ? tablesParam
            : undefined;
        const now = Date.now();
        const result = exports.create(visualization, context.viewer, userTablesIds, now);
        if (!result.ok) {
          sendCartoError(context.res, result.status, result.message);
          return;
        }
        sendJsonp(context.res, 201, exports.present(result.job, 'created'), context.params.get('callback'));
      },
    },

    'export.show': {
      body: 'params',
      async handle(context) {
        const job = loadJob(context, 'id');
        if (job)
          sendJsonp(context.res, 200, exports.present(job, Date.now()), context.params.get('callback'));
      },
    },

    'export.download': {
      body: 'params',
      async handle(context) {
        const job = loadJob(context, 'visualization_export_id');
        if (!job) return;
        const served = exports.served(job, Date.now());
        if (!served) {
          // `send_file` of a job without a file fails on the real server; the emulator says why instead.
          sendCartoError(context.res, 404, `Visualization export ${job.id} has no file yet`);
          return;
        }
        await serve(context, job, served);
      },
    },

    'storage.presigned': {
      body: 'params',
      async handle(context) {
        const { token, filename } = context.route.params;
        const resource = `/exports-storage/${token}/${filename}`;
        const job = exports.jobByToken(token);
        const served = job && exports.served(job, Date.now());
        if (!served || served.filename !== filename) {
          sendS3Error(context.res, 404, 'NoSuchKey', 'The specified key does not exist.', resource);
          return;
        }
        const query = new URL(context.req.url ?? '/', 'http://emulator.invalid').searchParams;
        const check = links.check(token, filename, query, Date.now());
        if (check === 'unsigned') {
          // The object is `authenticated-read`: without a signature S3 refuses it.
          sendS3Error(context.res, 403, 'AccessDenied', 'Access Denied', resource);
          return;
        }
        if (check === 'bad-signature') {
          sendS3Error(
            context.res,
            403,
            'SignatureDoesNotMatch',
            'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
            resource,
          );
          return;
        }
        if (check === 'expired') {
          sendS3Error(context.res, 403, 'AccessDenied', 'Request has expired', resource);
          return;
        }
        // S3 answers with the disposition the URL asked for.
        const disposition = query.get('response-content-disposition') ?? served.contentDisposition;
        await serve(context, job, { ...served, contentDisposition: disposition });
      },
    },

    'storage.uploads': {
      body: 'params',
      async handle(context) {
        // Rails serves `public/uploads` as static files: no user, no auth.
        const { token, filename } = context.route.params;
        const job = exports.jobByToken(token);
        const served = job && exports.served(job, Date.now());
        if (!served || served.filename !== filename) {
          sendRoutingNotFound(context.res);
          return;
        }
        await serve(context, job, served);
      },
    },
  };
}
