// HTTP handlers of the Import API v1: create (file, raw body or URL), list unfinished, and show one import.
import { authenticateContext, type RouteBinding } from './dispatch';
import { sendEmpty, sendJson, sendJsonp } from './http-responses';
import { isUuid } from './ids';
import { ImportRequestError, parseImportOptions } from './import-options';
import type { ImportService, ImportSource } from './import-service';
import { discardUpload, receiveImportUpload, type ReceivedFile } from './import-upload';
import { isPresent } from './request-params';

export function importRoutes(options: {
  imports: ImportService;
  uploadsDirectory: string;
}): Record<'import.create' | 'import.index' | 'import.show', RouteBinding> {
  const { imports, uploadsDirectory } = options;

  return {
    'import.create': {
      // The upload is read before authentication, as Rails parses multipart params (api_key may be one of them).
      body: 'custom',
      async handle(context) {
        let upload: ReceivedFile | undefined;
        try {
          upload = await receiveImportUpload(context.req, context.params, uploadsDirectory);
        } catch (error) {
          sendJson(context.res, 400, { errors: { imports: `Invalid upload: ${(error as Error).message}` } });
          return;
        }
        authenticateContext(context);
        const discard = async () => upload && (await discardUpload(upload));
        const viewer = context.viewer;
        if (!viewer) {
          await discard();
          sendEmpty(context.res, 401);
          return;
        }
        const now = Date.now();
        if (!imports.hasFreeSlot(viewer, now)) {
          await discard();
          // No Retry-After: the server's 429 for import slots carries none.
          sendJsonp(
            context.res,
            429,
            {
              errors: {
                imports: `We're sorry but you're already using your allowed ${imports.maxConcurrent} import slots`,
              },
            },
            context.params.get('callback'),
          );
          return;
        }
        let importOptions;
        try {
          importOptions = parseImportOptions(context.params);
        } catch (error) {
          await discard();
          if (!(error instanceof ImportRequestError)) throw error;
          sendJsonp(context.res, 400, { errors: { imports: error.message } }, context.params.get('callback'));
          return;
        }
        const url = context.params.get('url');
        let source: ImportSource;
        if (importOptions.fromQuery !== null) source = { kind: 'query' };
        else if (isPresent(url)) source = { kind: 'url', url: String(url) };
        else if (isPresent(context.params.get('connector'))) source = { kind: 'connector' };
        else if (isPresent(context.params.get('remote_visualization_id'))) {
          await discard();
          // The emulator has no external sources, so every remote load is refused as the server refuses foreign ones.
          sendJsonp(
            context.res,
            400,
            { errors: { imports: 'Illegal external load' } },
            context.params.get('callback'),
          );
          return;
        } else source = upload ? { kind: 'file', file: upload } : { kind: 'none' };
        if (source.kind !== 'file') await discard();
        const job = imports.create(viewer, importOptions, source, now);
        sendJsonp(context.res, 200, { item_queue_id: job.id, success: true }, context.params.get('callback'));
      },
    },

    'import.index': {
      body: 'params',
      async handle(context) {
        if (!context.viewer) {
          sendEmpty(context.res, 401);
          return;
        }
        const jobs = imports.recentUnfinished(context.viewer, Date.now());
        sendJson(context.res, 200, { imports: jobs.map((job) => job.id), success: true });
      },
    },

    'import.show': {
      body: 'params',
      async handle(context) {
        if (!context.viewer) {
          sendEmpty(context.res, 401);
          return;
        }
        // Any authenticated user may read any import: the server has no ownership check here.
        const id = context.route.params.id;
        const job = isUuid(id) ? imports.job(id) : undefined;
        if (!job) {
          sendEmpty(context.res, 404);
          return;
        }
        sendJson(context.res, 200, imports.present(job, Date.now()));
      },
    },
  };
}
