// A block of lines redrawn in place on a terminal, with plain ANSI cursor control (no dependency needed for this).
const CSI = '\x1b[';

export class LiveBlock {
  #height = 0;

  constructor(readonly stream: NodeJS.WriteStream) {}

  /** Replaces the previously drawn lines with these; lines wider than the terminal are cut so none wraps. */
  render(lines: readonly string[]): void {
    const width = this.stream.columns > 0 ? this.stream.columns - 1 : Infinity;
    let out = this.#height ? `${CSI}${this.#height}A\r` : '';
    for (const line of lines)
      out += `${CSI}2K${line.length > width ? `${line.slice(0, width - 1)}…` : line}\n`;
    // Clear whatever a taller previous block left below.
    out += `${CSI}J`;
    this.stream.write(out);
    this.#height = lines.length;
  }
}
