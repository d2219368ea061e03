/**
 * Constant folding's evaluation: the value of a value function the compiler made (emit.ts V, K)
 * when its operands are constants, computed at load with no frame.
 *
 * Calling the function itself would make it from its text (codegen.ts derive): one `new Function`
 * per text shape, and a constant's literals are part of the shape (`((3 < 5) ? 1 : 0)` and
 * `((4 < 5) ? 1 : 0)` are two). Here the text's number literals are parameters too, so texts that
 * differ only in their numbers share one function: csmith's 3,300 lines fold ~60 expressions in
 * ~45 shapes, ~10 without their numbers. The value is the same: the same JavaScript runs, with
 * each literal's value passed in instead of written.
 *
 * Only texts of numbers, the compiler's temps ($n) and environment references (Kn), operators
 * and a few global names are evaluated so; any other (memory, the frame, the machine, a
 * string) goes through the function as before.
 */
import type { Gen, Forms } from './codegen';

/** The text's tokens: a temp, an environment reference, a number (a BigInt with n), a name, or one other character. */
const TOKEN = /\$(\d+)|\bK(\d+)\b|(\d+(?:\.\d+)?(?:e[+-]?\d+)?)(n?)(?![\w$])|([A-Za-z_]\w*)|([^\w$])/gy;
/** The characters a text may have (anything else: marks, strings, ...: not this way). */
const PLAIN = /^[\w$\s()+\-*/%&|^~!<>=?:,.]*$/;
/** A number literal as codegen.ts lit writes it. */
const LITERAL = /^\(?-?\d+(?:e\+\d+)?n?\)?$/;
/** Global names a folded text may use (a name after '.' is a property). */
const GLOBALS = new Set(['true', 'false', 'null', 'undefined', 'Number', 'BigInt', 'Math']);

type Evaluator = (...args: unknown[]) => unknown;
/** The evaluators by their text's shape (numbers, temps and references numbered in order). */
const evaluators = new Map<string, Evaluator>();
const MAX_EVALUATORS = 4096;

/** The value of `f` with no frame (for a constant's function: its value), as `f(null)` gives it. */
export function constantValue<T>(g: Gen, f: (fr: never) => T): T {
  const js = (f as Forms).js;
  // A literal (emit.ts K's form: its function answers the value) or a text not of these.
  if (js === undefined || LITERAL.test(js) || !PLAIN.test(js)) return f(null as never);
  const refs: unknown[] = [];
  const nums: unknown[] = [];
  let temps = 0;
  const tempIds = new Map<string, number>();
  let shape = '';
  let prev = '';
  let at = 0;
  TOKEN.lastIndex = 0;
  for (let m = TOKEN.exec(js); m; m = TOKEN.exec(js)) {
    at = TOKEN.lastIndex;
    if (m[1] !== undefined) {
      let i = tempIds.get(m[1]);
      if (i === undefined) tempIds.set(m[1], (i = temps++));
      shape += `T${i}`;
    } else if (m[2] !== undefined) {
      shape += `A${refs.length}`;
      refs.push(g.env[Number(m[2])]);
    } else if (m[3] !== undefined) {
      // A number right after a '.' (no literal the compiler writes).
      if (prev === '.') return f(null as never);
      shape += `N${nums.length}`;
      nums.push(m[4] ? BigInt(m[3]) : Number(m[3]));
    } else if (m[5] !== undefined) {
      if (prev !== '.' && !GLOBALS.has(m[5])) return f(null as never);
      shape += m[5];
    } else shape += m[6]!;
    prev = m[0];
  }
  // A character no token starts with ('$' alone).
  if (at !== js.length) return f(null as never);
  const key = `${refs.length} ${nums.length} ${temps} ${shape}`;
  let ev = evaluators.get(key);
  if (ev === undefined) {
    const params = [...refs.map((_, i) => `A${i}`), ...nums.map((_, i) => `N${i}`)];
    const lets = temps ? `let ${Array.from({ length: temps }, (_, i) => `T${i}`).join(', ')};\n` : '';
    try {
      // eslint-disable-next-line @typescript-eslint/no-implied-eval
      ev = new Function(...params, `"use strict";\n${lets}return ${shape};`) as Evaluator;
    } catch {
      return f(null as never);
    }
    if (evaluators.size >= MAX_EVALUATORS) evaluators.clear();
    evaluators.set(key, ev);
  }
  return ev(...refs, ...nums) as T;
}
