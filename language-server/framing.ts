/**
 * Input hygiene for the stdio transport: bytes that cannot start a message header (garbage from a
 * confused client, a stray newline) are dropped up to the next `Content-Length:`, so one bad write
 * does not wedge the reader. Framing is still parsed by vscode-jsonrpc; this only skips noise
 * between messages.
 */
import { Transform } from 'node:stream';

const HEADER = Buffer.from('Content-Length:', 'ascii');
const HEADER_LC = Buffer.from('content-length:', 'ascii');

export function resyncFraming(): Transform {
  let buf: Buffer = Buffer.alloc(0);
  let body = 0; // bytes of a message body still to pass through
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
      const out: Buffer[] = [];
      for (;;) {
        if (body > 0) {
          const n = Math.min(body, buf.length);
          out.push(buf.subarray(0, n));
          buf = buf.subarray(n);
          body -= n;
          if (body > 0) break;
          continue;
        }
        if (!buf.length) break;
        // At a message start: find the header.
        let at = indexOfHeader(buf);
        if (at < 0) {
          // keep a tail that might be the start of a header split across chunks
          buf = buf.subarray(Math.max(0, buf.length - HEADER.length));
          break;
        }
        if (at > 0) buf = buf.subarray(at);
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) break;
        const headers = buf.subarray(0, end).toString('ascii');
        const m = /content-length:\s*(\d+)/i.exec(headers);
        if (!m) { buf = buf.subarray(HEADER.length); continue; }
        out.push(buf.subarray(0, end + 4));
        buf = buf.subarray(end + 4);
        body = Number(m[1]);
        at = 0;
      }
      done(null, out.length ? Buffer.concat(out) : undefined);
    },
  });
}

function indexOfHeader(b: Buffer): number {
  const a = b.indexOf(HEADER);
  const c = b.indexOf(HEADER_LC);
  if (a < 0) return c;
  if (c < 0) return a;
  return Math.min(a, c);
}
