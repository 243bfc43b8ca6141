// Tells the workflow how far a copy has got, a bounded number of times, so progress is queryable without bloating history.
import type { CopyProgressUpdate } from '../contract/export-messages';

export type SendCopyProgress = (workflowId: string, update: CopyProgressUpdate) => Promise<void>;

/** At most this many reports per copy: each one is a signal, i.e. a few events in the workflow's history. */
const MAX_REPORTS = 10;
/** Reports closer together than this are dropped; small files report once or not at all. */
const MIN_INTERVAL_MS = 2_000;
/** Step used when the file's size is unknown. */
const UNKNOWN_SIZE_STEP = 256 * 1024 * 1024;

export class CopyProgressReporter {
  #reports = 0;
  #nextThreshold: number;
  #lastAt = 0;
  readonly #step: number;

  constructor(
    readonly send: SendCopyProgress | undefined,
    readonly workflowId: string,
    readonly totalBytes: number | null,
  ) {
    this.#step = totalBytes ? Math.ceil(totalBytes / MAX_REPORTS) : UNKNOWN_SIZE_STEP;
    this.#nextThreshold = this.#step;
  }

  /** Called on every chunk; sends only when a step boundary is crossed and the rate limits allow. */
  observe(bytesCopied: number): void {
    if (!this.send || bytesCopied < this.#nextThreshold || this.#reports >= MAX_REPORTS) return;
    while (this.#nextThreshold <= bytesCopied) this.#nextThreshold += this.#step;
    const now = Date.now();
    if (now - this.#lastAt < MIN_INTERVAL_MS) return;
    this.#lastAt = now;
    this.#reports += 1;
    // Progress is a nicety: a failed signal must never fail the copy.
    this.send(this.workflowId, { bytesCopied, totalBytes: this.totalBytes }).catch(() => undefined);
  }

  get reports(): number {
    return this.#reports;
  }
}
