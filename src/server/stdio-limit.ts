/**
 * One stdio message (one line of JSON) over the limit must cost that message, not the connection: the SDK's
 * stdio transport closes the whole connection when its read buffer overflows (and the process then exits 0,
 * as if the client had left). This filter sits between stdin and the transport: lines up to the limit pass
 * through whole; a longer line is dropped as it streams in (only its first and last few KB are kept, to find
 * its JSON-RPC id) and reported, so the client gets an error for that request and the session goes on.
 */
import { Transform, type TransformCallback } from 'node:stream';

/** What is kept of a dropped line's head and tail to recover its id. */
const EDGE_BYTES = 4_096;
const NEWLINE = 0x0a;

export interface OversizedLine {
  bytes: number;
  /** The request's JSON-RPC id when it could be found near either end of the line. */
  id: string | number | undefined;
}

export function lineLimit(maxBytes: number, onOversized: (line: OversizedLine) => void): Transform {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  /** Set while dropping an oversized line: its size so far, head and tail. */
  let dropping: { bytes: number; head: Buffer; tail: Buffer } | undefined;

  function take(part: Buffer): void {
    if (dropping) {
      dropping.bytes += part.length;
      dropping.tail = Buffer.concat([dropping.tail, part]).subarray(-EDGE_BYTES);
      return;
    }
    if (pendingBytes + part.length <= maxBytes) {
      pending.push(part);
      pendingBytes += part.length;
      return;
    }
    const all = Buffer.concat([...pending, part]);
    dropping = { bytes: all.length, head: all.subarray(0, EDGE_BYTES), tail: all.subarray(-EDGE_BYTES) };
    pending = [];
    pendingBytes = 0;
  }

  return new Transform({
    transform(chunk: Buffer, _encoding, done: TransformCallback) {
      let start = 0;
      for (let end = chunk.indexOf(NEWLINE); end !== -1; end = chunk.indexOf(NEWLINE, start)) {
        take(chunk.subarray(start, end + 1));
        start = end + 1;
        if (dropping) {
          const { bytes, head, tail } = dropping;
          dropping = undefined;
          onOversized({ bytes, id: idIn(tail) ?? idIn(head) });
        } else {
          // One whole line per push, so the transport's own buffer never holds more than one message.
          this.push(pending.length === 1 ? pending[0] : Buffer.concat(pending));
          pending = [];
          pendingBytes = 0;
        }
      }
      if (start < chunk.length) take(chunk.subarray(start));
      done();
    },
    flush(done: TransformCallback) {
      if (!dropping && pendingBytes > 0) this.push(Buffer.concat(pending));
      done();
    },
  });
}

/** The value of a top-level-looking `"id":` (the SDK writes it last, most writers first). */
function idIn(edge: Buffer): string | number | undefined {
  const text = edge.toString('utf8');
  const matches = [...text.matchAll(/"id"\s*:\s*("(?:[^"\\]|\\.){0,200}"|-?\d{1,16})\s*[,}]/g)];
  const raw = matches.at(-1)?.[1];
  if (raw === undefined) return undefined;
  try {
    return JSON.parse(raw) as string | number;
  } catch {
    return undefined;
  }
}
