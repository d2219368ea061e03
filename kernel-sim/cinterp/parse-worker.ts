/** The worker thread that parses the second part of a split parse (split-parse.ts), one request at a time. */
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { createCParser, useCompiledParser, type CompiledParser } from '../../core/cparser';
import { parsePart, type PartAnswer, type PartRequest } from './split-parse';

const data = workerData as { kctxParseWorker?: boolean; wasm?: CompiledParser; port: MessagePort; flag: Int32Array } | undefined;
if (parentPort && data?.kctxParseWorker) {
  if (data.wasm) useCompiledParser(data.wasm);
  const parser = createCParser();
  void parser.then(() => Atomics.store(data.flag, 1, 1));
  parentPort.on('message', async (req: PartRequest) => {
    let out: PartAnswer;
    try {
      out = parsePart(await parser, req);
    } catch (e) {
      out = { seq: req.seq, error: e instanceof Error ? e.message : String(e) };
    }
    const t = 'tree' in out ? out.tree.tables : null;
    data.port.postMessage(out, t ? Object.values(t).map((a) => (a as Int32Array).buffer as ArrayBuffer) : []);
    Atomics.store(data.flag, 0, req.seq);
    Atomics.notify(data.flag, 0);
  });
}
