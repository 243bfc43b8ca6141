// A record of every export file the emulator served, so tests and users can see what a client really downloaded.

export interface DownloadRecord {
  exportId: string;
  /** 200 for the whole file, 206 for a range, 304/416 for conditional and unsatisfiable requests. */
  status: number;
  /** First byte served (0 unless a range was honoured). */
  rangeStart: number;
  /** Bytes the file stream handed to the response, up to when the response ended or the client went away. */
  bytesSent: number;
}

export class DownloadLog {
  readonly #records: DownloadRecord[] = [];

  add(record: DownloadRecord): void {
    this.#records.push(record);
  }

  list(exportId?: string): DownloadRecord[] {
    return this.#records.filter((record) => exportId === undefined || record.exportId === exportId);
  }
}
