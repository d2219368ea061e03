/**
 * A guard in front of the DAP library's reader: it splits the byte stream into whole
 * `Content-Length` frames and passes each one on in a single chunk, so the library never
 * concatenates a large body piece by piece, and it caps what one message may cost. A body
 * longer than `maxBody` is skipped byte by byte without being kept (the session answers an
 * error and keeps serving); a header block that does not end within `maxHeader` bytes is
 * dropped up to the next blank line. Memory is bounded by `maxBody` whatever the peer sends.
 */
import { Transform, type TransformCallback } from 'node:stream';

export const MAX_MESSAGE_BYTES = 64 * 1024 * 1024;
const MAX_HEADER_BYTES = 8192;
const CRLF2 = Buffer.from('\r\n\r\n');

export interface FrameProblem {
  kind: 'too-large' | 'bad-header';
  /** The declared length (too-large). */
  length?: number;
}

export class FrameGuard extends Transform {
  private head: Buffer[] = [];
  private headLen = 0;
  /** Bytes of the current body still to come (-1: reading a header). */
  private want = -1;
  private body: Buffer[] = [];
  private bodyLen = 0;
  /** Bytes of an oversized body still to discard. */
  private skip = 0;
  /** A runaway header was reported (once until a good frame arrives). */
  private reportedHeader = false;

  constructor(private readonly onProblem: (p: FrameProblem) => void, private readonly maxBody = MAX_MESSAGE_BYTES) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    let data = chunk;
    while (data.length) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, data.length);
        this.skip -= n;
        data = data.subarray(n);
        continue;
      }
      if (this.want >= 0) {
        const n = Math.min(this.want - this.bodyLen, data.length);
        this.body.push(data.subarray(0, n));
        this.bodyLen += n;
        data = data.subarray(n);
        if (this.bodyLen === this.want) {
          this.push(Buffer.concat(this.body, this.bodyLen));
          this.body = [];
          this.bodyLen = 0;
          this.want = -1;
        }
        continue;
      }
      // A header: look for the blank line across what we have (the tail of the kept part plus this chunk).
      const keepTail = Math.min(3, this.headLen);
      const prev = keepTail ? Buffer.concat(this.head, this.headLen).subarray(this.headLen - keepTail) : Buffer.alloc(0);
      const joined = keepTail ? Buffer.concat([prev, data]) : data;
      const at = joined.indexOf(CRLF2);
      if (at < 0) {
        this.head.push(data);
        this.headLen += data.length;
        if (this.headLen > MAX_HEADER_BYTES) {
          // Keep only the last 3 bytes: the blank line may straddle chunks.
          const all = Buffer.concat(this.head, this.headLen);
          this.head = [all.subarray(all.length - 3)];
          this.headLen = 3;
          if (!this.reportedHeader) this.onProblem({ kind: 'bad-header' });
          this.reportedHeader = true;
        }
        break;
      }
      const endInData = at - keepTail + CRLF2.length; // bytes of `data` that belong to the header
      const header = Buffer.concat([...this.head, data.subarray(0, endInData)]);
      this.head = [];
      this.headLen = 0;
      this.reportedHeader = false;
      data = data.subarray(endInData);
      const text = header.subarray(Math.max(0, header.length - MAX_HEADER_BYTES)).toString('latin1');
      const m = /(?:^|\r\n)Content-Length:\s*(\d+)\s*\r\n/i.exec(text);
      if (!m) {
        // No length: pass the header on, the library resynchronises on the next one as before.
        this.push(header);
        continue;
      }
      const len = Number(m[1]);
      if (!Number.isSafeInteger(len) || len > this.maxBody) {
        this.skip = Number.isSafeInteger(len) ? len : Number.MAX_SAFE_INTEGER;
        this.onProblem({ kind: 'too-large', length: len });
        continue;
      }
      this.push(header);
      this.want = len;
      if (len === 0) this.want = -1;
    }
    done();
  }
}
