// Writes a `.carto` file: a STORE zip of `<uuid>/<uuid>.carto.json` plus one `<table>.gpkg` per table, padded to size.
import { createWriteStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ZipFile } from 'yazl';
import { pseudoRandomGeoPackage } from './pseudo-random-bytes';

export interface ArchiveTable {
  name: string;
  /** Seeds the table's bytes; the table id keeps them stable across runs. */
  seed: string;
}

export interface ArchivePlan {
  visualizationId: string;
  document: Buffer;
  tables: ArchiveTable[];
  /** Fixed entry timestamps keep the archive byte-identical from run to run. */
  mtime: Date;
  /** Sizes chosen for each table entry so the whole archive reaches the requested size. */
  tableSizes: number[];
  totalSize: number;
}

/** The smallest GeoPackage stand-in: room for the SQLite header and a first page. */
const MIN_TABLE_BYTES = 1024;
const ENTRY_MODE = 0o100644;

/**
 * Chooses the table entry sizes so the archive is `targetSize` bytes. yazl can tell the final size of a STORE zip
 * before any data is read, so a few dry runs settle the ZIP64 overheads that depend on the sizes themselves.
 */
export async function planArchive(input: {
  visualizationId: string;
  document: Buffer;
  tables: ArchiveTable[];
  mtime: Date;
  targetSize: number;
}): Promise<ArchivePlan> {
  const sizes = input.tables.map(() => MIN_TABLE_BYTES);
  let total = await archiveSize(input.visualizationId, input.document, input.tables, sizes, input.mtime);
  if (sizes.length > 0 && total < input.targetSize) {
    const extra = input.targetSize - total;
    const share = Math.floor(extra / sizes.length);
    sizes.forEach((_, index) => (sizes[index] += share));
    sizes[0] += extra - share * sizes.length;
    for (let attempt = 0; attempt < 6; attempt += 1) {
      total = await archiveSize(input.visualizationId, input.document, input.tables, sizes, input.mtime);
      const difference = input.targetSize - total;
      if (difference === 0) break;
      const last = sizes.length - 1;
      if (sizes[last] + difference < MIN_TABLE_BYTES) break;
      sizes[last] += difference;
    }
    total = await archiveSize(input.visualizationId, input.document, input.tables, sizes, input.mtime);
  }
  return { ...input, tableSizes: sizes, totalSize: total };
}

/** Streams the archive to `path`; memory use stays at a few chunks whatever the size. */
export async function writeArchive(plan: ArchivePlan, path: string, signal?: AbortSignal): Promise<void> {
  const zip = buildZip(
    plan.visualizationId,
    plan.document,
    plan.tables,
    plan.tableSizes,
    plan.mtime,
    (table, size) => pseudoRandomGeoPackage(table.seed, size),
  );
  const output = zip.outputStream as Readable;
  // yazl reports entry problems (a size mismatch) on the ZipFile, not on its output stream.
  zip.on('error', (error: Error) => output.destroy(error));
  zip.end();
  await pipeline(output, createWriteStream(path), { signal });
}

function archiveSize(
  visualizationId: string,
  document: Buffer,
  tables: ArchiveTable[],
  sizes: number[],
  mtime: Date,
): Promise<number> {
  // The dry-run zip is never read: its lazy table streams are never requested, so nothing is generated.
  const zip = buildZip(visualizationId, document, tables, sizes, mtime, () => undefined);
  return new Promise((resolve) => {
    const onSize = (total: number) => resolve(total);
    zip.end(undefined, onSize as unknown as () => void);
  });
}

function buildZip(
  visualizationId: string,
  document: Buffer,
  tables: ArchiveTable[],
  sizes: number[],
  mtime: Date,
  openTable: (table: ArchiveTable, size: number) => NodeJS.ReadableStream | undefined,
): ZipFile {
  const zip = new ZipFile();
  const options = {
    mtime: dosFieldsInUtc(mtime),
    mode: ENTRY_MODE,
    compress: false,
    forceDosTimestamp: true,
  };
  zip.addBuffer(document, `${visualizationId}/${visualizationId}.carto.json`, options);
  tables.forEach((table, index) => {
    zip.addReadStreamLazy(
      `${visualizationId}/${table.name}.gpkg`,
      { ...options, size: sizes[index] },
      (callback) => {
        const stream = openTable(table, sizes[index]);
        if (stream) callback(null, stream);
      },
    );
  });
  return zip;
}

/**
 * yazl writes DOS timestamps from the local-time fields of a Date, so the same archive would differ between machines
 * in different time zones. Shifting the Date by the zone offset makes its local fields the UTC ones, as reproducible
 * zip builders do; the Info-ZIP UTC field is left out (forceDosTimestamp) since it would record the shifted instant.
 */
function dosFieldsInUtc(mtime: Date): Date {
  const shifted = new Date(mtime.getTime() + mtime.getTimezoneOffset() * 60_000);
  return new Date(mtime.getTime() + shifted.getTimezoneOffset() * 60_000);
}
