// Opens a received import file and decides what the importer would make of it: tables and a map, or an error code.
import { stat } from 'node:fs/promises';
import { extname } from 'node:path';
import { open as openZip, type Entry, type ZipFile } from 'yauzl';

/** The importer stage where a failure shows up; the job's timeline fails at the end of that stage. */
export type ImportStage = 'uploading' | 'unpacking' | 'importing';

export interface ImportedVisualization {
  name: string;
  description: string;
  privacy: string;
  /** Table names its data layers read (`layers[].options.table_name`), before any renaming. */
  layerTables: string[];
}

export type Inspection =
  | {
      ok: true;
      tables: string[];
      visualization: ImportedVisualization | undefined;
      warnings: Record<string, unknown> | null;
    }
  | { ok: false; errorCode: number; stage: ImportStage };

/** `Unp::COMPRESSED_EXTENSIONS` the emulator can open; the others (tar, gz, bz2, rar) it reports as unsupported. */
const ZIP_EXTENSIONS = new Set(['.zip', '.carto', '.kmz']);
/** `Unp::SUPPORTED_FORMATS`: single files that become one table each. */
const TABLE_EXTENSIONS = new Set([
  '.csv',
  '.shp',
  '.ods',
  '.xls',
  '.xlsx',
  '.tif',
  '.tiff',
  '.kml',
  '.js',
  '.json',
  '.osm',
  '.geojson',
  '.gpkg',
  '.gpx',
  '.tab',
  '.tsv',
  '.txt',
  '.gdb',
  '.fgdb',
]);
/** `Runner::MAX_TABLES_PER_IMPORT`: further tables are skipped with a warning. */
const MAX_TABLES_PER_IMPORT = 26;
const MAX_DOCUMENT_BYTES = 64 * 1024 * 1024;
const CARTO_JSON = '.carto.json';

/**
 * Like the server, the file name's extension decides how a file is unpacked (the content type only helps when the
 * name has no usable extension). Outcomes:
 * - empty file → 1005 (the runner's EmptyFileError);
 * - a zip/.carto that yauzl cannot open → 1003 (unzip fails: ExtractionError); an encrypted entry → 1018;
 * - an archive without exactly one `*.carto.json` → 1002. The real importer would import the tables of a plain zip and
 *   create one map per document; the emulator only restores `.carto` layouts, and 1002 ("Unsupported/Unrecognized
 *   file type") is the code the server itself uses when nothing importable is found;
 * - a `.carto.json` that is not JSON, or whose version's major is not 2 → 99999: the server raises a plain
 *   "Wrong export version" error, which its error map does not know, so it reports Unknown;
 * - an empty table entry → 1005; any other extension → 1002.
 */
export async function inspectImportFile(
  path: string,
  filename: string,
  contentType?: string,
): Promise<Inspection> {
  const { size } = await stat(path);
  if (size === 0) return { ok: false, errorCode: 1005, stage: 'unpacking' };
  const extension = effectiveExtension(filename, contentType);
  if (ZIP_EXTENSIONS.has(extension)) return inspectArchive(path);
  if (TABLE_EXTENSIONS.has(extension)) {
    return { ok: true, tables: [tableNameOf(filename)], visualization: undefined, warnings: null };
  }
  return { ok: false, errorCode: 1002, stage: 'unpacking' };
}

function effectiveExtension(filename: string, contentType: string | undefined): string {
  const extension = extname(filename).toLowerCase();
  if (ZIP_EXTENSIONS.has(extension) || TABLE_EXTENSIONS.has(extension)) return extension;
  const type = (contentType ?? '').split(';')[0].trim().toLowerCase();
  if (type === 'application/zip' || type === 'application/x-zip-compressed') return '.zip';
  if (type === 'text/csv') return '.csv';
  if (type === 'application/geo+json' || type === 'application/vnd.geo+json') return '.geojson';
  return extension;
}

async function inspectArchive(path: string): Promise<Inspection> {
  let zip: ZipFile;
  try {
    zip = await new Promise<ZipFile>((resolve, reject) =>
      openZip(path, { lazyEntries: true, autoClose: false }, (error, file) =>
        error ? reject(error) : resolve(file),
      ),
    );
  } catch {
    return { ok: false, errorCode: 1003, stage: 'unpacking' };
  }
  try {
    let entries: Entry[];
    try {
      entries = await readEntries(zip);
    } catch {
      return { ok: false, errorCode: 1003, stage: 'unpacking' };
    }
    const files = entries.filter((entry) => !entry.fileName.endsWith('/') && !isHidden(entry.fileName));
    if (files.some((entry) => entry.isEncrypted())) return { ok: false, errorCode: 1018, stage: 'unpacking' };
    const documents = files.filter((entry) => entry.fileName.endsWith(CARTO_JSON));
    const tableEntries = files.filter(
      (entry) =>
        !entry.fileName.endsWith(CARTO_JSON) && TABLE_EXTENSIONS.has(extname(entry.fileName).toLowerCase()),
    );
    if (documents.length !== 1) return { ok: false, errorCode: 1002, stage: 'importing' };
    const imported = tableEntries.slice(0, MAX_TABLES_PER_IMPORT);
    if (imported.some((entry) => entry.uncompressedSize === 0)) {
      return { ok: false, errorCode: 1005, stage: 'importing' };
    }
    const visualization = await readVisualization(zip, documents[0]);
    if (!visualization) return { ok: false, errorCode: 99999, stage: 'importing' };
    return {
      ok: true,
      tables: imported.map((entry) => tableNameOf(entry.fileName)),
      visualization,
      warnings:
        tableEntries.length > MAX_TABLES_PER_IMPORT ? { max_tables_per_import: MAX_TABLES_PER_IMPORT } : null,
    };
  } finally {
    zip.close();
  }
}

function readEntries(zip: ZipFile): Promise<Entry[]> {
  return new Promise((resolve, reject) => {
    const entries: Entry[] = [];
    zip.on('entry', (entry: Entry) => {
      entries.push(entry);
      zip.readEntry();
    });
    zip.once('end', () => resolve(entries));
    zip.once('error', reject);
    zip.readEntry();
  });
}

async function readVisualization(zip: ZipFile, entry: Entry): Promise<ImportedVisualization | undefined> {
  if (entry.uncompressedSize > MAX_DOCUMENT_BYTES) return undefined;
  let text: string;
  try {
    text = await new Promise<string>((resolve, reject) =>
      zip.openReadStream(entry, async (error, stream) => {
        if (error) return reject(error);
        const chunks: Buffer[] = [];
        try {
          for await (const chunk of stream) chunks.push(chunk as Buffer);
          resolve(Buffer.concat(chunks).toString('utf8'));
        } catch (streamError) {
          reject(streamError);
        }
      }),
    );
  } catch {
    return undefined;
  }
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isObject(document) || !isCompatibleVersion(document.version) || !isObject(document.visualization)) {
    return undefined;
  }
  const visualization = document.visualization;
  const layers = Array.isArray(visualization.layers) ? visualization.layers : [];
  const layerTables = layers.flatMap((layer) => {
    const tableName = isObject(layer) && isObject(layer.options) ? layer.options.table_name : undefined;
    return typeof tableName === 'string' && tableName !== '' ? [tableName] : [];
  });
  return {
    name:
      typeof visualization.name === 'string' && visualization.name !== ''
        ? visualization.name
        : 'Untitled Map',
    description: typeof visualization.description === 'string' ? visualization.description : '',
    privacy: typeof visualization.privacy === 'string' ? visualization.privacy : 'public',
    layerTables,
  };
}

/** `compatible_version?`: Ruby's `version.to_i == 2`, i.e. the leading integer of the version string. */
function isCompatibleVersion(version: unknown): boolean {
  if (typeof version !== 'string') return false;
  const major = /^\s*(\d+)/.exec(version);
  return major !== null && Number(major[1]) === 2;
}

/** Archive junk the unpacker's crawler never treats as data: hidden files and macOS resource forks. */
function isHidden(fileName: string): boolean {
  return fileName.split('/').some((part) => part.startsWith('.') || part === '__MACOSX');
}

/** A table is named after its file, without directories or extension. */
function tableNameOf(fileName: string): string {
  const base = fileName.split('/').pop() ?? fileName;
  const extension = extname(base);
  return extension ? base.slice(0, -extension.length) : base;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
