/**
 * The register form of a step function (codegen.ts buildStep): the frame's words that the
 * function's text reads and writes only as whole aligned words at fixed offsets (`U32[(fp + 8)
 * >>> 2]`, the two words of a 64-bit local, a temp holding `(fp + 8)` used only that way) live
 * in JavaScript variables (`L8`) while a step runs without a debugger; so do bytes and 16-bit
 * words that share their word with no other variable, and pointers read and written only through
 * readPtr and writePtr (`P8`).
 *
 * The frame's memory stays what the memory form would leave in it wherever anything else can
 * look: the variables are loaded from the frame when the step starts and after every
 * instruction with a machine protocol (a call: its callee may have written the frame, as
 * through a stray pointer), and the words the text writes are stored back before every such
 * instruction and when the step ends in any way (a return, a yield, an exception: `finally`).
 * The cold paths that read or write a 64-bit word through the DataView (a BigInt value) store
 * the variables first or load them after.
 *
 * A function whose text uses the frame pointer in any other way (an address taken, an array or
 * a struct in the frame, varargs, a struct's return area), or whose call instruction itself
 * stores to a variable (`f(i++)`), has no register form: the memory form is all it runs.
 */

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
}

/** Around an instruction with a machine protocol in the body: where the words are stored before it. */
export const SPILL_MARK = '@SPILL@';
/** After an instruction with a machine protocol: where the words are loaded again. */
export const LOAD_MARK = '@LOAD@';
/** Brackets around a protocol instruction's own code (must not store a variable). */
export const INS_OPEN = '\u0001';
export const INS_CLOSE = '\u0002';

type View = 'U32' | 'I32' | 'U8' | 'I8' | 'U16' | 'I16';
/** A match of ACCESS: its view (undefined: a 16-bit store, which converts its value as any view would). */
const viewOf = (mt: RegExpMatchArray): View | undefined => (mt[1] ?? mt[6] ?? (mt[8] === undefined ? undefined : mt[8] === 'Uint16' ? 'U16' : 'I16')) as View | undefined;
const sizeOf = (v: View): number => (v.endsWith('8') ? 1 : v.endsWith('16') ? 2 : 4);

/** A word access to a fixed slot: `V[(fp + N) >>> 2]`, `V[((fp + N) >>> 2) + 1]`, or the same through a temp of (fp + N). */
const ACCESS = /(?:(U32|I32)\[(?:\(fp \+ (\d+)\) >>> 2|\(\(fp \+ (\d+)\) >>> 2\) \+ 1|(\$\d+) >>> 2|\((\$\d+) >>> 2\) \+ 1)\]|(U8|I8)\[\(fp \+ (\d+)\)\]|D\.get(Uint16|Int16)\(\(fp \+ (\d+)\), true\)|D\.setUint16\(\(fp \+ (\d+)\), )/g;

/** A value as a view's element would hold it. */
const CONV: Record<View, (x: string) => string> = {
  U32: (x) => `(${x} >>> 0)`,
  I32: (x) => `(${x} | 0)`,
  U8: (x) => `(${x} & 255)`,
  I8: (x) => `((${x} << 24) >> 24)`,
  U16: (x) => `(${x} & 65535)`,
  I16: (x) => `((${x} << 16) >> 16)`,
};

/** The end (exclusive) of the assigned expression starting at i: the first `,` `;` or closing bracket at its depth. */
function exprEnd(s: string, i: number): number {
  let depth = 0;
  for (let k = i; k < s.length; k++) {
    const c = s[k]!;
    if (c === '(' || c === '[' || c === '{') depth++;
    else if (c === ')' || c === ']' || c === '}') {
      if (depth === 0) return k;
      depth--;
    } else if ((c === ',' || c === ';') && depth === 0) return k;
    else if (c === "'" || c === '"' || c === '`') {
      for (k++; k < s.length && s[k] !== c; k++) if (s[k] === '\\') k++;
    }
  }
  return s.length;
}

/**
 * The register form of a step function's body, or null when it has none. `isRd64(k)`: the
 * environment value Kk is a 64-bit DataView read (runtime.ts rd64u/rd64s); `isWr64(k)`: the
 * BigInt store (wr64big).
 */
export function registerForm(body: string, mem: string, isRd64: (k: number) => boolean, isWr64: (k: number) => boolean): RegisterForm | null {
  if (/\bL\d+\b/.test(body) || /\bP\d+\b/.test(body)) return null;
  // Pointer slots: read and written only through the memory's readPtr and writePtr (a value in P8).
  const ptrs = new Set<number>();
  for (const mt of body.matchAll(/\b(K\d+)\.(?:readPtr|writePtr)\(\(fp \+ (\d+)\)[,)]/g)) {
    if (mt[1] !== mem) return null;
    ptrs.add(Number(mt[2]));
  }
  // Temps that hold a slot's address: each must always hold the same one.
  const temps = new Map<string, number>();
  for (const mt of body.matchAll(/(\$\d+) = \(fp \+ (\d+)\)/g)) {
    const was = temps.get(mt[1]!);
    const off = Number(mt[2]);
    if (was !== undefined && was !== off) return null;
    temps.set(mt[1]!, off);
  }
  // Every slot's views: a slot seen through both is kept as an int32.
  const views = new Map<number, View>();
  const stores16 = new Set<number>();
  const slotOf = (mt: RegExpMatchArray): number | null => {
    if (mt[7] !== undefined) return Number(mt[7]);
    if (mt[9] !== undefined) return Number(mt[9]);
    if (mt[10] !== undefined) return Number(mt[10]);
    if (mt[2] !== undefined) return Number(mt[2]);
    if (mt[3] !== undefined) return Number(mt[3]) + 4;
    const t = mt[4] ?? mt[5]!;
    const off = temps.get(t);
    if (off === undefined) return null;
    return mt[4] !== undefined ? off : off + 4;
  };
  for (const mt of body.matchAll(ACCESS)) {
    const slot = slotOf(mt);
    if (slot === null) continue; // a temp that is not a slot's address: not ours
    const v = viewOf(mt);
    if (v === undefined) {
      stores16.add(slot);
      continue;
    }
    const size = sizeOf(v);
    if (slot % size !== 0) return null;
    const was = views.get(slot);
    if (was !== undefined && sizeOf(was) !== size) return null;
    views.set(slot, was === undefined || was === v ? v : size === 1 ? 'I8' : size === 2 ? 'I16' : 'I32');
  }
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
  const written = new Set<number>();
  const rewrite = (s: string): string | null => {
    let out = '';
    let at = 0;
    const re = new RegExp(ACCESS.source, 'g');
    for (let mt = re.exec(s); mt !== null; mt = re.exec(s)) {
      const slot = slotOf(mt);
      if (slot === null) continue;
      const canon = views.get(slot)!;
      out += s.slice(at, mt.index);
      let k = mt.index + mt[0].length;
      if (mt[10] !== undefined) {
        // D.setUint16((fp + N), v, true)
        const end = exprEnd(s, k);
        if (!s.startsWith(', true)', end)) return null;
        const rhs = rewrite(s.slice(k, end));
        if (rhs === null) return null;
        out += `(L${slot} = ${CONV[canon](`(${rhs})`)})`;
        written.add(slot);
        k = end + ', true)'.length;
      } else if (s.startsWith(' = ', k)) {
        const end = exprEnd(s, k + 3);
        const rhs = rewrite(s.slice(k + 3, end));
        if (rhs === null) return null;
        out += `L${slot} = ${CONV[canon](`(${rhs})`)}`;
        written.add(slot);
        k = end;
      } else if (/^\s*(?:[-+*/%&|^]|<<|>>>?|\*\*)?=(?!=)|^\s*(?:\+\+|--)/.test(s.slice(k, k + 5))) {
        return null; // a compound assignment: not written by the emitter; refuse rather than guess
      } else {
        const v = viewOf(mt)!;
        out += v === canon ? `L${slot}` : CONV[v](`L${slot}`);
      }
      at = k;
      re.lastIndex = k;
    }
    return out + s.slice(at);
  };
  let rb = rewrite(body);
  if (rb === null) return null;
  // Pointer slots: a load is the variable, a store sets it (a store's value is never used: stJs).
  if (ptrs.size) {
    rb = rb.replaceAll(`${mem}.readPtr((fp + `, '\u0003');
    rb = rb.replace(/\u0003(\d+)\)\)/g, (_, n: string) => `P${n}`);
    let out = '';
    let at = 0;
    const head = `${mem}.writePtr((fp + `;
    for (let k = rb.indexOf(head); k >= 0; k = rb.indexOf(head, at)) {
      const close = rb.indexOf('), ', k + head.length);
      const n = rb.slice(k + head.length, close);
      const end = exprEnd(rb, close + 3);
      if (rb[end] !== ')') return null;
      const rhs = rb.slice(close + 3, end);
      out += rb.slice(at, k) + `(P${n} = ${rhs})`;
      written.add(-1 - Number(n));
      at = end + 1;
    }
    rb = out + rb.slice(at);
    if (rb.includes('\u0003')) return null;
  }
  const slots = [...views.keys()].sort((a, b) => a - b);
  const has = (n: number): boolean => views.has(n);
  const st = (n: number, addr: string, view: (v: string) => string = (v) => v): string => {
    const v = views.get(n)!;
    return sizeOf(v) === 2 ? `${view('D')}.setUint16(${addr}, L${n}, true)` : `${view(v)}[${addr}] = L${n}`;
  };
  const ld = (n: number, addr: string): string => {
    const v = views.get(n)!;
    return sizeOf(v) === 2 ? `L${n} = D.get${v === 'U16' ? 'Uint16' : 'Int16'}(${addr}, true)` : `L${n} = ${v}[${addr}]`;
  };
  const addrOf = (n: number): string => (sizeOf(views.get(n)!) < 4 ? `fp + ${n}` : `(fp + ${n}) >>> 2`);
  // A 64-bit read through the DataView (a value beyond 2^53): the words go to the frame first.
  rb = rb.replace(/\bK(\d+)\(D, (\$\d+)\)/g, (x, k: string, tmp: string) => {
    const off = temps.get(tmp);
    if (off === undefined || !isRd64(Number(k))) return x;
    const sp = [off, off + 4].filter(has).map((n) => st(n, n === off ? `${tmp} >>> 2` : `(${tmp} >>> 2) + 1`));
    return `(${[...sp, x].join(', ')})`;
  });
  // A BigInt stored through the DataView: the words come back from the frame after it.
  {
    let out = '';
    let at = 0;
    for (const mt of rb.matchAll(/\bK(\d+)\(D, \(fp \+ (\d+)\), /g)) {
      if (!isWr64(Number(mt[1]))) continue;
      const off = Number(mt[2]);
      const end = exprEnd(rb, mt.index! + mt[0].length);
      if (rb[end] !== ')') return null;
      const lds = [off, off + 4].filter(has).map((n) => ld(n, addrOf(n)));
      out += rb.slice(at, mt.index) + `(${rb.slice(mt.index, end + 1)}${lds.map((x) => `, ${x}`).join('')})`;
      at = end + 1;
    }
    rb = out + rb.slice(at);
  }
  // What is left of the frame pointer and its temps must be harmless: the temps' assignments,
  // the watchpoint tests (WATCH is false in the register form), the BigInt paths above.
  let rest = rb
    .replace(/\$\d+ = \(fp \+ \d+\)/g, '')
    .replace(/\(WATCH && K\d+\(m, (?:\(fp \+ \d+\)|\$\d+), \d+\)\)/g, '')
    .replace(/\bK\d+\(D, \(fp \+ \d+\), /g, '')
    .replace(/[UI]32\[\(?\$\d+ >>> 2\)?(?: \+ 1)?\] = L\d+/g, '')
    .replace(/\bK\d+\(D, \$\d+\)/g, '')
    .replace(/L\d+ = [UI]32\[\(fp \+ \d+\) >>> 2\]/g, '');
  if (/\bfp\b/.test(rest)) return null;
  for (const tmp of temps.keys()) if (new RegExp(`\\${tmp}\\b`).test(rest)) return null;
  rest = '';
  // A protocol instruction's own code must not write a variable (its stores would come after the spill).
  for (const mt of rb.matchAll(new RegExp(`${INS_OPEN}([^${INS_CLOSE}]*)${INS_CLOSE}`, 'g'))) {
    if (/\b[LP]\d+ = /.test(mt[1]!)) return null;
  }
  const w = slots.filter((n) => written.has(n));
  const ps = [...ptrs].sort((a, b) => a - b);
  const pw = ps.filter((n) => written.has(-1 - n));
  const loads = [...slots.map((n) => ld(n, addrOf(n))), ...ps.map((n) => `P${n} = ${mem}.readPtr(fp + ${n})`)];
  return {
    body: rb,
    decl: `let ${loads.join(', ')};`,
    spill: (view) => [...w.map((n) => `${st(n, addrOf(n), view)};`), ...pw.map((n) => `${mem}.writePtr(fp + ${n}, P${n});`)].join(' '),
    load: loads.map((x) => `${x};`).join(' '),
    slots: [...slots, ...ps],
  };
}
