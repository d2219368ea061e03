/**
 * The compiler: tree-sitter C syntax to JavaScript (codegen.ts).
 *
 * Each C function becomes a flat program of instructions, each described by its JavaScript
 * text. Expressions without calls compile to one JavaScript expression each; calls are lowered out of
 * expressions (also out of `&&`, `||`, `?:`, conditions and loop headers): their arguments
 * with side effects are evaluated into frame temporaries by earlier instructions, so the call
 * instruction itself can be restarted when a debugger stop unwinds it. Locals and parameters
 * live in the thread's simulated stack at fixed offsets from the frame pointer. Variadic
 * functions keep their variable arguments in their frame too, read through `va_list` (varargs.ts).
 *
 * The compiler is a chain of classes, one phase per file, each extending the one before:
 * emit.ts (state, emitting, JavaScript forms, loads and stores) → declare.ts (types,
 * declarations) → init.ts (initialisers) → stmt.ts (function bodies, statements) →
 * operators.ts → expr.ts (other expressions) → calls.ts (calls, va_* builtins) → `Compiler`.
 * A phase calls a later one through an abstract declaration in emit.ts. The shapes of the
 * compiled program are in program.ts, what it calls at run time in runtime.ts.
 */
import { Calls } from './calls';

export class Compiler extends Calls {}

export { switchHead } from './stmt';
export { Scope, YIELD, type Pos, type LocalInfo, type CFunc, type CFrame, type GlobalInfo, type TU } from './program';
export { stoppedInStatement, watchHit, bitUnitType, bitGet, bitPut, decodeString, type BitField } from './runtime';
