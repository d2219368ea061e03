/**
 * What the C interpreter tells the debugger and mdb about the loaded driver. The interpreter
 * sets `m.program` to an object implementing `CDebug` when it loads the sources; the debug
 * adapter and mdb only use this interface (never the interpreter's internals).
 */
import type { Machine, Frame } from './machine';
import type { KThread } from './thread';

/** A C value as the debugger shows it. */
export interface CValueView {
  name: string;
  /** C type as written, e.g. `struct vcpu *`, `uint64_t`, `int [4]`. */
  type: string;
  /** Display text: `42`, `0xfffffe00f0025e60`, `"vcpu0"`, `{...}`. */
  value: string;
  /** Address of the object, when it has one (locals, globals, members). */
  addr?: number;
  /** Size in bytes. */
  size?: number;
  /** Members or elements (structs, unions, arrays, pointers to structs). */
  children?: () => CValueView[];
  /** Assigns from C expression text; returns the new view, throws Error with a message. */
  set?: (text: string) => CValueView;
}

export interface CFrameInfo {
  fn: string;
  /** Absolute path of the source file. */
  file: string;
  line: number;
  column: number;
  params: CValueView[];
  locals: CValueView[];
}

export interface CTypeLayout {
  name: string;
  size: number;
  fields: Array<{ name: string; type: string; offset: number; size: number }>;
}

export interface CDebug {
  /** Absolute paths of the driver's sources (and its own headers). */
  sources(): string[];
  /** Lines that start a statement, sorted (for verifying and moving line breakpoints). */
  statementLines(file: string): number[];
  /** Information about a C frame (frame.kind === 'c'). */
  frameInfo(m: Machine, t: KThread, f: Frame): CFrameInfo;
  /** The driver's globals (and statics) with values. */
  globals(m: Machine): CValueView[];
  /**
   * Evaluates a C expression in the scope of thread t's stack frame `frameIndex` (an index
   * into t.stack; undefined: globals only). Side effects are allowed only when `allowSideEffects`.
   * Throws Error with a readable message on a bad expression.
   */
  evaluate(m: Machine, t: KThread | undefined, frameIndex: number | undefined, expr: string, allowSideEffects?: boolean): CValueView;
  /** Struct/union layouts by name (`struct vcpu`, `vcpu_t`), for ::print. */
  typeLayout(name: string): CTypeLayout | undefined;
  /** Names usable in completions: functions, globals, types. */
  symbols(): string[];
}

/** The StopPoint.detail of a 'statement' stop. */
export interface StatementPos {
  file: string;
  line: number;
  column: number;
  /** Index of the C frame in t.stack. */
  frameIndex: number;
}
