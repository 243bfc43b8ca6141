// Holds a response back after its headers promised all of it: cut short (socket destroyed) or paused, then resumed.
import type { OutgoingHttpHeader, OutgoingHttpHeaders, ServerResponse } from 'node:http';

type Callback = (error?: Error | null) => void;
type Chunk = string | Uint8Array;

export interface Interruption {
  /** Share of the declared body that is sent before the interruption, in [0, 1). */
  fraction: number;
  /**
   * What happens once that share is written: `truncate` destroys the socket; `stall` keeps it open and silent for
   * `pause` ms, then sends the rest (see `holdResponse`).
   */
  then: { kind: 'truncate' } | { kind: 'stall'; pause: number; signal: AbortSignal };
}

/**
 * Queues everything the handler writes to `res` (headers included, since Node sends them with the first write) for
 * `pause` ms, then sends it in order. The handler runs meanwhile, as on a server whose answer is slow to arrive. A
 * client that leaves in between gets nothing; `signal` (the emulator closing) destroys the response.
 */
export function holdResponse(res: ServerResponse, pause: number, signal: AbortSignal): void {
  const queued: (() => void)[] = [];
  const { write, end } = res;
  // A writer told to wait (write() returned false) resumes on 'drain'.
  let writerWaiting = false;
  res.write = function (...args: unknown[]): boolean {
    queued.push(() => (write as (...rest: unknown[]) => boolean).apply(res, args));
    writerWaiting = true;
    return false;
  } as ServerResponse['write'];
  res.end = function (...args: unknown[]): ServerResponse {
    queued.push(() => (end as (...rest: unknown[]) => ServerResponse).apply(res, args));
    return res;
  } as ServerResponse['end'];

  const release = () => {
    forget();
    res.write = write;
    res.end = end;
    for (const call of queued.splice(0)) call();
    if (writerWaiting) res.emit('drain');
  };
  const timer = setTimeout(release, pause);
  const onAbort = () => {
    forget();
    res.destroy();
  };
  const forget = () => {
    clearTimeout(timer);
    signal.removeEventListener('abort', onAbort);
    res.off('close', forget);
  };
  signal.addEventListener('abort', onAbort, { once: true });
  res.once('close', forget);
}

/**
 * Wraps `res` before the handler runs, so the handler writes its normal headers (the full Content-Length) and body.
 * At least one byte of a declared body is always held back, so the client can tell that the body is short: the
 * bytes that do arrive are exact, never silently corrupt. A stall does not apply to a response without a body (HEAD,
 * 304); a truncation sends such a response whole, then closes the connection.
 */
export function interruptBody(res: ServerResponse, interruption: Interruption): void {
  const original = { writeHead: res.writeHead, write: res.write, end: res.end };
  const rawWrite = (chunk: Buffer, callback?: Callback): boolean =>
    (original.write as (chunk: Buffer, callback?: Callback) => boolean).call(res, chunk, callback);
  const rawEnd = (chunk: Buffer, callback?: Callback): ServerResponse =>
    (original.end as (chunk: Buffer, callback?: Callback) => ServerResponse).call(res, chunk, callback);
  let declared: number | undefined;
  let sent = 0;

  const limitFor = (chunk: Buffer): number => {
    const total = declared ?? sent + chunk.length;
    return Math.min(Math.floor(total * interruption.fraction), Math.max(total - 1, 0));
  };

  /** Writes the allowed head of `chunk`, then cuts or stalls; after a stall the tail and the end follow. */
  const interrupt = (chunk: Buffer, callback: Callback | undefined, ending: boolean): void => {
    const allowed = Math.min(chunk.length, Math.max(0, limitFor(chunk) - sent));
    sent += allowed;
    res.write = original.write;
    res.end = original.end;
    if (interruption.then.kind === 'truncate') {
      const destroy = () => res.socket?.destroy();
      // Nothing to cut (HEAD, 304): the response ends whole, then the connection goes all the same.
      if (ending && allowed === chunk.length) rawEnd(chunk, destroy);
      // The head reaches the kernel before the socket goes, so the client sees exactly these bytes, then EOF.
      else rawWrite(chunk.subarray(0, allowed), destroy);
      res.write = (() => false) as ServerResponse['write'];
      res.end = (() => res) as ServerResponse['end'];
      return;
    }
    rawWrite(chunk.subarray(0, allowed));
    holdResponse(res, interruption.then.pause, interruption.then.signal);
    const tail = chunk.subarray(allowed);
    if (ending) res.end(tail, callback);
    else res.write(tail, callback);
  };

  res.writeHead = function (this: ServerResponse, ...args: unknown[]) {
    declared = contentLength(args);
    return (original.writeHead as (...rest: unknown[]) => ServerResponse).apply(this, args);
  } as ServerResponse['writeHead'];

  res.write = function (chunk: Chunk, ...rest: unknown[]): boolean {
    const { encoding, callback } = writeArguments(rest);
    const bytes = toBuffer(chunk, encoding);
    declared ??= headerLength(res.getHeader('content-length'));
    if (sent + bytes.length <= limitFor(bytes)) {
      sent += bytes.length;
      return rawWrite(bytes, callback);
    }
    interrupt(bytes, callback, false);
    return false;
  } as ServerResponse['write'];

  res.end = function (...args: unknown[]): ServerResponse {
    const callback = typeof args[args.length - 1] === 'function' ? (args.pop() as Callback) : undefined;
    const [chunk, encoding] = args as [Chunk | undefined | null, BufferEncoding | undefined];
    const bytes = chunk === undefined || chunk === null ? Buffer.alloc(0) : toBuffer(chunk, encoding);
    declared ??= headerLength(res.getHeader('content-length'));
    if (interruption.then.kind === 'stall' && sent + bytes.length <= limitFor(bytes)) {
      res.write = original.write;
      res.end = original.end;
      return rawEnd(bytes, callback);
    }
    interrupt(bytes, callback, true);
    return res;
  } as ServerResponse['end'];
}

function writeArguments(rest: unknown[]): { encoding?: BufferEncoding; callback?: Callback } {
  if (typeof rest[0] === 'function') return { callback: rest[0] as Callback };
  return { encoding: rest[0] as BufferEncoding | undefined, callback: rest[1] as Callback | undefined };
}

function toBuffer(chunk: Chunk, encoding: BufferEncoding | undefined): Buffer {
  if (typeof chunk === 'string') return Buffer.from(chunk, encoding ?? 'utf8');
  return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}

/** The Content-Length among `writeHead(status, [message], headers)` arguments, object or array form. */
function contentLength(args: unknown[]): number | undefined {
  const headers = args.find((arg) => typeof arg === 'object' && arg !== null) as
    OutgoingHttpHeaders | OutgoingHttpHeader[] | undefined;
  if (!headers) return undefined;
  if (Array.isArray(headers)) {
    const flat = headers.flat();
    for (let index = 0; index + 1 < flat.length; index += 2) {
      if (String(flat[index]).toLowerCase() === 'content-length') return headerLength(flat[index + 1]);
    }
    return undefined;
  }
  const key = Object.keys(headers).find((name) => name.toLowerCase() === 'content-length');
  return key === undefined ? undefined : headerLength(headers[key]);
}

function headerLength(value: unknown): number | undefined {
  const length = Number(Array.isArray(value) ? value[0] : value);
  return value === undefined || !Number.isSafeInteger(length) || length < 0 ? undefined : length;
}
