/**
 * Frame slots in the generated text, and the register form of a step function (codegen.ts
 * buildStep) made from them.
 *
 * The emitter (emit.ts ldJs, stJs, ldPairJs, stPairJs) records every access to a local at a
 * fixed offset from the frame pointer as a slot token in the text it makes: a read or a store of
 * a whole aligned word, a 16-bit word, a byte, a boolean or a pointer (slotRead, slotWrite), a
 * use of the local's address (slotAddr: the address escapes), the address given to a cold path
 * that reads or writes the frame's memory itself (coldAddr: the DataView's BigInt paths, a
 * watchpoint's test), with the slots' words stored before it (syncOut) or loaded after it
 * (syncIn). A watchpoint's test is bracketed too (watchJs), so the form without a debugger
 * leaves it out. memoryForm turns the tokens into the memory form's text (`U32[(fp + 8) >>> 2]`).
 *
 * The register form: when the function's text uses the frame only through such accesses (no
 * address escapes, no other use of the frame pointer: an array or a struct copied in the frame,
 * varargs, a struct's return area), its slots live in JavaScript variables (`L8`; `P8` for a
 * pointer) while a step runs without a debugger; a byte or a 16-bit word only when no other
 * slot shares its word.
 *
 * The frame's memory stays what the memory form would leave in it wherever anything else can
 * look: the variables are loaded from the frame when the step starts and after every
 * instruction with a machine protocol (a call: its callee may have written the frame, as
 * through a stray pointer), and the slots the text writes are stored back before every such
 * instruction and when the step ends in any way (a return, a yield, an exception: `finally`).
 * The cold paths store the variables first (syncOut) or load them after (syncIn). A function
 * whose protocol instruction itself stores to a slot (`f(i++)`) has no register form either.
 */

/** Around an instruction with a machine protocol in the body: where the words are stored before it. */
export const SPILL_MARK = '@SPILL@';
/** After an instruction with a machine protocol: where the words are loaded again. */
export const LOAD_MARK = '@LOAD@';

/** A slot token: OPEN, its head (kind,view,offset[,memory]), then VAL and a value, then CLOSE. */
const OPEN = '\u0006';
const VAL = '\u000b';
const CLOSE = '\u0007';
/** Around a watchpoint's test `(WATCH && ...)`: false without a debugger. */
const WATCH_OPEN = '\u000e';
const WATCH_CLOSE = '\u000f';

/** How a slot is read or written: a word's view, a 16-bit word's, a byte's, a boolean byte (B), a pointer (P). */
export type SlotView = 'U32' | 'I32' | 'U8' | 'I8' | 'U16' | 'I16' | 'B' | 'P';

/** The address of the local at fp + off, as a value (it escapes: no register form). */
export const slotAddr = (off: number): string => `${OPEN}a,${off}${CLOSE}`;
/** The offset of a slotAddr text, or undefined for any other address text. */
export function slotOfAddr(a: string): number | undefined {
  if (!a.startsWith(`${OPEN}a,`) || !a.endsWith(CLOSE)) return undefined;
  const n = a.slice(3, -1);
  return /^\d+$/.test(n) ? Number(n) : undefined;
}
/** A read of the slot at fp + off (a pointer's through the memory `mem`, its environment name). */
export const slotRead = (v: SlotView, off: number, mem = ''): string => `${OPEN}r,${v},${off}${mem && `,${mem}`}${CLOSE}`;
/** A store of the value (JavaScript, already of the slot's type) to the slot at fp + off; its own value is not used. */
export const slotWrite = (v: SlotView, off: number, value: string, mem = ''): string => `${OPEN}w,${v},${off}${mem && `,${mem}`}${VAL}${value}${CLOSE}`;
/** The address fp + off given to a cold path that reads or writes the frame itself (not an escape). */
export const coldAddr = (off: number): string => `${OPEN}c,${off}${CLOSE}`;
/** expr, after the 8-byte slot at fp + off is stored to the frame (expr reads it there). */
export const syncOut = (off: number, expr: string): string => `${OPEN}s,${off}${VAL}${expr}${CLOSE}`;
/** expr, then the 8-byte slot at fp + off is loaded from the frame (expr wrote it there). */
export const syncIn = (off: number, expr: string): string => `${OPEN}l,${off}${VAL}${expr}${CLOSE}`;
/** A watchpoint's test: left out (false) without a debugger. */
export const watchJs = (x: string): string => `${WATCH_OPEN}${x}${WATCH_CLOSE}`;

interface Tok {
  kind: string;
  view: SlotView | '';
  off: number;
  mem: string;
  val: Node[] | null;
}
type Node = string | Tok;

/** The text's literal parts and slot tokens (nested: a store's value holds tokens). */
function parse(s: string): Node[] {
  let i = 0;
  const nodes = (inner: boolean): Node[] => {
    const out: Node[] = [];
    let at = i;
    while (i < s.length) {
      const c = s[i]!;
      if (c === OPEN) {
        if (i > at) out.push(s.slice(at, i));
        let e = i + 1;
        while (s[e] !== VAL && s[e] !== CLOSE) e++;
        const head = s.slice(i + 1, e).split(',');
        const kind = head[0]!;
        const two = kind === 'r' || kind === 'w';
        const tok: Tok = { kind, view: two ? head[1] as SlotView : '', off: Number(two ? head[2] : head[1]), mem: two ? head[3] ?? '' : '', val: null };
        i = e + 1;
        if (s[e] === VAL) tok.val = nodes(true);
        out.push(tok);
        at = i;
      } else if (c === CLOSE && inner) {
        if (i > at) out.push(s.slice(at, i));
        i++;
        return out;
      } else i++;
    }
    if (i > at) out.push(s.slice(at, i));
    return out;
  };
  return nodes(false);
}

/** The text of nodes with each token's text given by tok. */
function expand(ns: Node[], tok: (t: Tok, val: string) => string): string {
  let out = '';
  for (const n of ns) out += typeof n === 'string' ? n : tok(n, n.val === null ? '' : expand(n.val, tok));
  return out;
}

const wordAddr = (off: number): string => `(fp + ${off}) >>> 2`;

/** The memory form of a token: the frame's memory read and written through the typed views. */
function memoryTok(t: Tok, val: string): string {
  const a = `(fp + ${t.off})`;
  switch (t.kind) {
    case 'a':
    case 'c': return a;
    case 's':
    case 'l': return val;
    case 'r':
      switch (t.view) {
        case 'U32': case 'I32': return `${t.view}[${wordAddr(t.off)}]`;
        case 'U8': case 'I8': return `${t.view}[${a}]`;
        case 'B': return `(U8[${a}] ? 1 : 0)`;
        case 'U16': return `D.getUint16(${a}, true)`;
        case 'I16': return `D.getInt16(${a}, true)`;
        default: return `${t.mem}.readPtr(${a})`;
      }
    default:
      switch (t.view) {
        case 'U32': case 'I32': return `${t.view}[${wordAddr(t.off)}] = ${val}`;
        case 'U8': case 'I8': case 'B': return `U8[${a}] = ${val}`;
        case 'U16': case 'I16': return `D.setUint16(${a}, ${val}, true)`;
        default: return `${t.mem}.writePtr(${a}, ${val})`;
      }
  }
}

/** The text with its slot tokens as memory accesses and its watchpoint tests in place (the memory form). */
export function memoryForm(js: string): string {
  if (!js.includes(OPEN) && !js.includes(WATCH_OPEN)) return js;
  const x = js.includes(OPEN) ? expand(parse(js), memoryTok) : js;
  return x.replaceAll(WATCH_OPEN, '').replaceAll(WATCH_CLOSE, '');
}

/** The text with its watchpoint tests false (the form without a debugger); the slot tokens stay. */
export function withoutWatch(js: string): string {
  return js.replace(new RegExp(`${WATCH_OPEN}[^${WATCH_CLOSE}]*${WATCH_CLOSE}`, 'g'), 'false');
}

/** Whether the text stores to a slot (a protocol instruction that does has no register form). */
export const writesSlot = (js: string): boolean => js.includes(`${OPEN}w,`);

/** What the register form needs: the body with the words as variables and its entry, call and exit code. */
export interface RegisterForm {
  /** The body, with SPILL_MARK and LOAD_MARK still in place (buildStep puts them in). */
  body: string;
  /** `let L8 = U32[(fp + 8) >>> 2], ...;` (the step's views). */
  decl: string;
  /** Statements that store the written words to the frame, each view (U32, I32, U8, I8; D for 16-bit words) named by `view`. */
  spill: (view: (v: string) => string) => string;
  /** Statements that load every word from the frame again (the step's views). */
  load: string;
  /** The slots (offsets from fp) held in variables. */
  slots: number[];
  /** The 4-byte slots written (stored by every spill) and their views, by offset. */
  words: Map<number, 'U32' | 'I32'>;
}

type View = 'U32' | 'I32' | 'U8' | 'I8' | 'U16' | 'I16';
const sizeOf = (v: View): number => (v.endsWith('8') ? 1 : v.endsWith('16') ? 2 : 4);

/** A value as a view's element would hold it. */
const CONV: Record<View, (x: string) => string> = {
  U32: (x) => `(${x} >>> 0)`,
  I32: (x) => `(${x} | 0)`,
  U8: (x) => `(${x} & 255)`,
  I8: (x) => `((${x} << 24) >> 24)`,
  U16: (x) => `(${x} & 65535)`,
  I16: (x) => `((${x} << 16) >> 16)`,
};

/**
 * The register form of a step function's body (its text without a debugger, slot tokens in
 * place), or null when it has none. `mem`: the environment name of the memory (pointers are
 * read and written through it).
 */
export function registerForm(body: string, mem: string): RegisterForm | null {
  const tree = parse(body);
  const views = new Map<number, View>();
  const ptrs = new Set<number>();
  const stores16 = new Set<number>();
  let ok = true;
  const visit = (ns: Node[]): void => {
    for (const n of ns) {
      if (typeof n === 'string') {
        // Any other use of the frame pointer, or a name the form would take.
        if (/\bfp\b|\b[LP]\d+\b/.test(n)) ok = false;
        continue;
      }
      if (n.val) visit(n.val);
      if (n.kind === 'a') ok = false;
      if (n.kind !== 'r' && n.kind !== 'w') continue;
      if (n.view === 'P') {
        if (n.mem !== mem) ok = false;
        ptrs.add(n.off);
        continue;
      }
      // A 16-bit store converts its value as any view would: the loads choose.
      if (n.kind === 'w' && (n.view === 'U16' || n.view === 'I16')) {
        stores16.add(n.off);
        continue;
      }
      const v: View = n.view === 'B' ? 'U8' : n.view as View;
      const size = sizeOf(v);
      if (n.off % size !== 0) ok = false;
      const was = views.get(n.off);
      if (was !== undefined && sizeOf(was) !== size) ok = false;
      // A slot seen through both signs is kept as the signed view.
      views.set(n.off, was === undefined || was === v ? v : size === 1 ? 'I8' : size === 2 ? 'I16' : 'I32');
    }
  };
  visit(tree);
  if (!ok) return null;
  for (const n of stores16) {
    const was = views.get(n);
    if (was === undefined && n % 2 === 0) views.set(n, 'U16');
    else if (was === undefined || sizeOf(was) !== 2) return null;
  }
  // A byte or 16-bit slot shares no word with another slot (its word's other bytes are not variables).
  for (const [n, v] of views) {
    if (sizeOf(v) === 4) continue;
    const w = n - (n % 4);
    for (let b = w; b < w + 4; b++) if (b !== n && views.has(b)) return null;
    if (ptrs.has(w) || ptrs.has(w - 4)) return null;
  }
  for (const n of ptrs) if (n % 4 !== 0 || views.has(n) || views.has(n + 4) || ptrs.has(n + 4)) return null;
  if (views.size === 0 && ptrs.size === 0) return null;
  const slots = [...views.keys()].sort((a, b) => a - b);
  const has = (n: number): boolean => views.has(n);
  const addrOf = (n: number): string => (sizeOf(views.get(n)!) < 4 ? `fp + ${n}` : `(fp + ${n}) >>> 2`);
  const st = (n: number, view: (v: string) => string = (v) => v): string => {
    const v = views.get(n)!;
    return sizeOf(v) === 2 ? `${view('D')}.setUint16(${addrOf(n)}, L${n}, true)` : `${view(v)}[${addrOf(n)}] = L${n}`;
  };
  const ld = (n: number): string => {
    const v = views.get(n)!;
    return sizeOf(v) === 2 ? `L${n} = D.get${v === 'U16' ? 'Uint16' : 'Int16'}(${addrOf(n)}, true)` : `L${n} = ${v}[${addrOf(n)}]`;
  };
  const written = new Set<number>();
  const rb = expand(tree, (t, val) => {
    const canon = views.get(t.off);
    switch (t.kind) {
      case 'c': return `(fp + ${t.off})`;
      case 's': {
        const sp = [t.off, t.off + 4].filter(has).map((n) => st(n));
        return sp.length ? `(${[...sp, val].join(', ')})` : val;
      }
      case 'l': {
        const lds = [t.off, t.off + 4].filter(has).map(ld);
        return lds.length ? `(${[val, ...lds].join(', ')})` : val;
      }
      case 'r':
        if (t.view === 'P') return `P${t.off}`;
        if (t.view === 'B') return `(L${t.off} ? 1 : 0)`;
        return t.view === canon ? `L${t.off}` : CONV[t.view as View](`L${t.off}`);
      default:
        if (t.view === 'P') {
          written.add(-1 - t.off);
          return `(P${t.off} = ${val})`;
        }
        written.add(t.off);
        return `(L${t.off} = ${CONV[canon!](`(${val})`)})`;
    }
  });
  const w = slots.filter((n) => written.has(n));
  const ps = [...ptrs].sort((a, b) => a - b);
  const pw = ps.filter((n) => written.has(-1 - n));
  const loads = [...slots.map(ld), ...ps.map((n) => `P${n} = ${mem}.readPtr(fp + ${n})`)];
  return {
    body: rb,
    decl: `let ${loads.join(', ')};`,
    spill: (view) => [...w.map((n) => `${st(n, view)};`), ...pw.map((n) => `${mem}.writePtr(fp + ${n}, P${n});`)].join(' '),
    load: loads.map((x) => `${x};`).join(' '),
    slots: [...slots, ...ps],
    words: new Map(w.filter((n) => sizeOf(views.get(n)!) === 4).map((n) => [n, views.get(n) as 'U32' | 'I32'])),
  };
}
