/**
 * Hostile peers cost the adapter bounded memory (issue 17): a request stream does not grow the
 * heap (the library's logger used to queue every message), an oversized Content-Length is
 * refused without being buffered and the adapter keeps serving, and seeded random framing
 * (split frames, garbage, wrong lengths) never stops it. Bounded in count, not in time.
 */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { KctxDebugSession } from '../../debug-adapter/session';
import { KCTX, fixture, server } from './helpers';
import { scratchDir } from '../scratch';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** A raw DAP peer: frames out, responses in by request_seq, everything else kept. */
class Peer {
  private buf = Buffer.alloc(0);
  private waiters = new Map<number, (m: Record<string, unknown>) => void>();
  readonly others: Array<Record<string, unknown>> = [];
  private seq = 1;
  private onOther: Array<() => void> = [];
  constructor(readonly input: NodeJS.WritableStream, output: NodeJS.ReadableStream) {
    output.on('data', (d: Buffer) => {
      this.buf = Buffer.concat([this.buf, d]);
      for (;;) {
        const i = this.buf.indexOf('\r\n\r\n');
        if (i < 0) return;
        const n = Number(/Content-Length: (\d+)/.exec(this.buf.toString('latin1', 0, i))![1]);
        if (this.buf.length < i + 4 + n) return;
        const m = JSON.parse(this.buf.toString('utf8', i + 4, i + 4 + n)) as Record<string, unknown>;
        this.buf = this.buf.subarray(i + 4 + n);
        const w = m.type === 'response' ? this.waiters.get(m.request_seq as number) : undefined;
        if (w) {
          this.waiters.delete(m.request_seq as number);
          w(m);
        } else {
          this.others.push(m);
          for (const f of this.onOther.splice(0)) f();
        }
      }
    });
  }
  request(command: string, args: unknown = {}): Promise<Record<string, unknown>> {
    return new Promise((res) => {
      const seq = this.seq++;
      this.waiters.set(seq, res);
      const b = JSON.stringify({ seq, type: 'request', command, arguments: args });
      this.input.write(`Content-Length: ${Buffer.byteLength(b)}\r\n\r\n${b}`);
    });
  }
  async other(pred: (m: Record<string, unknown>) => boolean): Promise<Record<string, unknown>> {
    for (;;) {
      const m = this.others.find(pred);
      if (m) return m;
      await new Promise<void>((r) => this.onOther.push(r));
    }
  }
}

function inProcPeer(): { peer: Peer; session: KctxDebugSession } {
  const toDa = new PassThrough();
  const fromDa = new PassThrough();
  const session = new KctxDebugSession();
  session.setRunAsServer(true);
  session.start(toDa, fromDa);
  return { peer: new Peer(toDa, fromDa), session };
}

const peakMb = (p: ChildProcess) => Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${p.pid}/status`, 'utf8'))![1]) / 1024;

describe('hostile peers of the debug adapter', () => {
  it('20,000 threads requests do not grow the heap (after GC, within noise)', async () => {
    const { peer } = inProcPeer();
    await peer.request('initialize', { adapterID: 'kctx', pathFormat: 'path', linesStartAt1: true, columnsStartAt1: true });
    const heap = () => { gc(); gc(); return process.memoryUsage().heapUsed; };
    const batch = async (n: number) => { for (let i = 0; i < n; i += 100) await Promise.all(Array.from({ length: 100 }, () => peer.request('threads'))); };
    await batch(2000); // warm up: code, caches, the first answers
    const before = heap();
    await batch(20000);
    const grown = heap() - before;
    // Each request used to keep ~0.55 KB (11 MB over 20k); noise is well under 2 MB.
    assert.ok(grown < 2 * 1024 * 1024, `heap grew by ${(grown / 1048576).toFixed(1)} MB over 20,000 requests`);
  });

  it('a 2 GB Content-Length is refused with an error, the body is skipped unbuffered, and the adapter keeps serving (stdio)', async () => {
    const child = spawn(process.execPath, [KCTX, 'dap'], { stdio: ['pipe', 'pipe', 'ignore'] });
    try {
      const peer = new Peer(child.stdin!, child.stdout!);
      assert.equal((await peer.request('initialize', { adapterID: 'kctx', pathFormat: 'path', linesStartAt1: true, columnsStartAt1: true })).success, true);
      const base = peakMb(child);
      // A 96 MB body under a declared 96 MB length (over the 64 MB cap), sent in 1 MB pieces.
      const len = 96 * 1024 * 1024;
      child.stdin!.write(`Content-Length: ${len}\r\n\r\n`);
      const err = peer.other((m) => m.type === 'response' && m.success === false && /over the 64 MB limit/.test(String(m.message)));
      const piece = Buffer.alloc(1024 * 1024, 0x7b);
      for (let i = 0; i < 96; i++) if (!child.stdin!.write(piece)) await new Promise((r) => child.stdin!.once('drain', r));
      const e = await err;
      assert.match(String(e.message), /a message of 100663296 bytes is over the 64 MB limit; skipped/);
      const t = await peer.request('threads');
      assert.equal(t.success, true, 'still serving after the skipped body');
      const grown = peakMb(child) - base;
      assert.ok(grown < 48, `peak memory grew by ${grown.toFixed(0)} MB for a 96 MB message it refused`);
      // Then a 2 GB claim: the error comes at once (nothing of the body is awaited).
      child.stdin!.write('Content-Length: 2000000000\r\n\r\n');
      const e2 = await peer.other((m) => /a message of 2000000000 bytes/.test(String(m.message)));
      assert.equal(e2.success, false);
    } finally {
      child.kill();
    }
  });

  it('seeded random framing (split frames, garbage, short or non-numeric lengths, runaway headers): every good request is answered', async () => {
    const { peer } = inProcPeer();
    await peer.request('initialize', { adapterID: 'kctx', pathFormat: 'path', linesStartAt1: true, columnsStartAt1: true });
    let x = 0x5eed;
    const r = () => { x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0; return x / 0x100000000; };
    const input = peer.input;
    for (let round = 0; round < 150; round++) {
      const k = Math.floor(r() * 5);
      if (k === 0) input.write(Buffer.from(Array.from({ length: Math.floor(r() * 300) }, () => Math.floor(r() * 256))));
      else if (k === 1) input.write(`Content-Length: ${Math.floor(r() * 20)}\r\n\r\n{"seq":1,"type":"request","command":"threads"}`);
      else if (k === 2) input.write('X'.repeat(9000 + Math.floor(r() * 4000)));
      else if (k === 3) input.write('Content-Length: abc\r\n\r\n');
      else {
        // A valid frame split at random points.
        const b = `{"seq":${round},"type":"request","command":"threads","arguments":{}}`;
        const f = Buffer.from(`Content-Length: ${Buffer.byteLength(b)}\r\n\r\n${b}`);
        for (let at = 0; at < f.length;) { const n = 1 + Math.floor(r() * 12); input.write(f.subarray(at, at + n)); at += n; }
      }
      // Resynchronise: a blank line ends any header; a huge length is skipped by the guard.
      input.write('\r\n\r\n');
    }
    // The stream may be mid-body of a short bogus length: a few resync frames, then a request must be answered.
    for (let i = 0; i < 3; i++) input.write('Content-Length: 2\r\n\r\n{}');
    const fresh = await Promise.race([peer.request('threads'), new Promise<null>((res) => setTimeout(() => res(null), 10000))]);
    assert.ok(fresh && fresh.success === true, 'a well-formed request after the garbage is answered');
  });
});

describe('kctx dap --server: a token, or a 0600 Unix socket', () => {
  it('a launch without the printed token (or with a wrong one) is refused and the connection closed; requests before it are refused', async () => {
    const { port, token, proc } = await server();
    const open = () => new Promise<{ peer: Peer; closed: Promise<void> }>((res) => {
      const sock = connect(port, '127.0.0.1', () => res({ peer: new Peer(sock, sock), closed: new Promise((r) => sock.on('close', () => r())) }));
    });
    try {
      assert.match(token, /^[0-9a-f]{48}$/);
      const a = await open();
      assert.equal((await a.peer.request('initialize', { adapterID: 'kctx', pathFormat: 'path' })).success, true);
      const early = await a.peer.request('threads');
      assert.equal(early.success, false);
      assert.match(String(early.message), /serves only a launch with the "serverToken" it printed at start/);
      const bad = await a.peer.request('launch', { scenario: '/etc/passwd', serverToken: 'f'.repeat(48) });
      assert.equal(bad.success, false);
      assert.match(String(bad.message), /serverToken/);
      await a.closed;
      const b = await open();
      await b.peer.request('initialize', { adapterID: 'kctx', pathFormat: 'path' });
      assert.equal((await b.peer.request('launch', { scenario: '/etc/passwd' })).success, false, 'no token');
      await b.closed;
    } finally {
      proc.kill();
    }
  });

  it('--server=unix:PATH listens on a socket of mode 0600 and serves a launch without a token', async () => {
    const path = join(scratchDir('kctx-sock-'), 'dap.sock');
    const proc = spawn(process.execPath, [KCTX, 'dap', `--server=unix:${path}`], { stdio: ['ignore', 'ignore', 'pipe'] });
    try {
      await new Promise<void>((res, rej) => {
        let err = '';
        proc.stderr!.on('data', (d: Buffer) => { err += d; if (/listening on unix:.* \(mode 0600\)/.test(err)) res(); });
        proc.on('exit', (c) => rej(new Error(`exited ${c}: ${err}`)));
      });
      assert.equal(statSync(path).mode & 0o777, 0o600);
      const sock = await new Promise<Socket>((res) => { const s = connect(path, () => res(s)); });
      const peer = new Peer(sock, sock);
      await peer.request('initialize', { adapterID: 'kctx', pathFormat: 'path', linesStartAt1: true, columnsStartAt1: true });
      const launched = peer.request('launch', { scenario: fixture('bhyve.ksim.json'), stopOnEntry: true });
      await peer.other((m) => m.type === 'event' && m.event === 'initialized');
      await peer.request('configurationDone');
      assert.equal((await launched).success, true);
      sock.destroy();
    } finally {
      proc.kill();
    }
  });
});
