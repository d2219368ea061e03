/**
 * The compiled program's shapes: a C function (`CFunc`) as a flat list of instructions over a
 * frame (`CFrame`), its locals, scopes, and the compiler's expression record (`E`).
 */
import type { CNode as SyntaxNode, Located } from './ctree';
import type { Frame } from '../machine/machine';
import type { StepFn, InsJs } from './codegen';
import type { TextSymbol } from '../machine/symbols';
import type { CType, IntType, StructType, FuncType, Val } from './types';
import type { Origin, PreprocessResult } from './preprocess';

export interface Pos {
  file: string;
  line: number;
  col: number;
}

/**
 * Deepest nesting of statements and expressions compiled (C requires 127 block levels and 63
 * parenthesized ones; GCC takes more, and so does this, within the JavaScript stack).
 */
export const MAX_NESTING = 1000;
/** Returned by an instruction that pushed a frame (it set fr.pc) or returned. */
export const YIELD = -1;

export interface LocalInfo {
  name: string;
  type: CType;
  off: number;
  /** pc range where the name is in scope. */
  from: number;
  to: number;
  /** Static locals live in data. */
  addr?: number;
}

export interface CFunc {
  name: string;
  type: FuncType;
  sym: TextSymbol;
  /** The instructions (their JavaScript forms: codegen.ts). */
  code: InsJs[];
  /** Statement start positions by pc (undefined: not a statement start). */
  pos: Array<Pos | undefined>;
  /** Source position of every instruction. */
  loc: Pos[];
  frameSize: number;
  ntemps: number;
  params: LocalInfo[];
  locals: LocalInfo[];
  /** Writes the incoming argument words into the new frame's parameters (stmt.ts). */
  bind: (fr: CFrame, args: Val[]) => void;
  /** The text of bind's stores, the arguments in the array named a (codegen.ts leaf form). */
  bindJs: (a: string) => string;
  file: string;
  line: number;
  col: number;
  /** The file scope the function was compiled in (for the debugger's expressions). */
  scope: Scope;
  /** The generated step function (codegen.ts). */
  run: StepFn;
  /** Makes the step function (run) without running it, once (codegen.ts: a caller's step that runs a pure leaf in its own text). */
  make?: () => StepFn;
  /** The values its generated code refers to (codegen.ts Gen.env). */
  env: unknown[];
  /**
   * Variadic (`...`): the number of named parameters; its frames have a variable-argument area
   * at fp + frameSize (varargs.ts). -1: not variadic.
   */
  va: number;
}

export interface CFrame extends Frame {
  kind: 'c';
  pc: number;
  fn: CFunc;
  fp: number;
  sp0: number;
  tmp: Val[];
  args: number[];
  /** Temp slot awaiting a C callee's return value, or -1. */
  wait: number;
  /** Entered through a traced C-to-C call (emit the return event). */
  traced: boolean;
  /**
   * The current statement's cycle was given back at a stop inside it: the next step counts it
   * first, and makes no statement check if it starts at the statement's first instruction.
   */
  owed: boolean;
}

/** A compiled expression. */
export interface E {
  t: CType;
  rv: (fr: CFrame) => Val;
  /** Lvalue address. */
  addr?: (fr: CFrame) => number;
  /** Compile-time constant value. */
  cst?: Val;
  /** Boolean form (comparisons). */
  cond?: (fr: CFrame) => boolean;
  /** Has side effects (assignment, ++, calls). */
  se?: boolean;
  /** Local variable offset (fast paths). */
  local?: number;
  /** A function designator: its name. */
  fname?: string;
  /** The lvalue's address is a load-time constant (globals, their members and elements). */
  ca?: boolean;
  /** The lvalue's address as a compile-time constant: a member reached through a constant pointer (offsetof's `&((T *)0)->m`). */
  addrCst?: number;
}

export type Ent =
  | { k: 'var'; name: string; type: CType; global: boolean; addr: number; off: number; extern?: boolean }
  | { k: 'typedef'; type: CType }
  /** An enumeration constant: type int, or its enumeration's type when the value does not fit int (gcc). */
  | { k: 'enum'; value: number; type?: IntType }
  /**
   * A function. `protoAt`: where its first declaration with a prototype (or its definition) starts
   * in the unit's text, when an earlier one had none (`static void f();`): a call before that
   * point is a call without a prototype, as C sees it there.
   */
  | { k: 'func'; name: string; type: FuncType; protoAt?: number };
/** An enumeration's tag: its integer type once its body is seen. */
export type EnumTag = { k: 'enum'; base?: IntType };
/**
 * Names the outermost scope did not declare, looked up after it (a load that declared only the
 * header constructs its driver needs gives the debugger the rest of the tree's types: needed.ts).
 */
export interface LateNames {
  name(n: string): Ent | undefined;
  tag(n: string): StructType | EnumTag | undefined;
}
export class Scope {
  names = new Map<string, Ent>();
  tags = new Map<string, StructType | EnumTag>();
  /** On the outermost scope only. */
  late?: LateNames;
  constructor(readonly parent?: Scope) {}
  find(n: string): Ent | undefined {
    let s: Scope = this;
    for (;;) {
      const e = s.names.get(n);
      if (e) return e;
      if (!s.parent) return s.late?.name(n);
      s = s.parent;
    }
  }
  findTag(n: string): StructType | EnumTag | undefined {
    let s: Scope = this;
    for (;;) {
      const e = s.tags.get(n);
      if (e) return e;
      if (!s.parent) return s.late?.tag(n);
      s = s.parent;
    }
  }
}

export interface Label {
  pc: number;
}

export interface GlobalInfo {
  name: string;
  type: CType;
  addr: number;
  file: string;
  isStatic: boolean;
}

export interface TU {
  pp: PreprocessResult;
  root: SyntaxNode;
  /** Index of the source file in pp.files that this TU compiles. */
  main: number;
}

/** Where a node of `tu` comes from (file, line, column before preprocessing). */
export function originIn(tu: Pick<TU, 'pp' | 'main'>, n: Located): Origin {
  const p = n.startPosition;
  return tu.pp.pos.at(p.row, p.column) ?? tu.pp.pos.rowOrigin(p.row) ?? { file: tu.main, line: 1, col: 1 };
}
