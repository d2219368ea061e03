/**
 * What the extension needs to know about a C file, found with the shared tree-sitter parser
 * (core/cparser.ts): the `void f(void *)` functions a thread can start in, and the
 * functions that install or attach ctxops (with the kernel era their calls belong to).
 */
import type { SyntaxNode, Parser } from '../core/cparser';
import { loadSim } from './lazy';
import { CTXOP_INSTALLERS, LEGACY_API, LEGACY_HANDLER_BASE, SLOTS } from '../core/ctxop-api';
import { installctxArity, type EraId } from '../core/eras';
import { runEraOf } from '../core/infer-era';

export interface CFunction {
  name: string;
  /** 0-based line of the definition's first line (return type). */
  line: number;
  /** True for `void f(void *)`: usable as a thread entry. */
  threadEntry: boolean;
  /** Named as a ctxop handler (in a `ctxop_template` initializer or an installctx() call). */
  handler: boolean;
  /** ctxop install/attach calls inside the body. */
  ctxopCalls: { name: string; args: number; line: number }[];
}

let parserPromise: Promise<Parser> | undefined;
function parser(): Promise<Parser> {
  // Loaded on first use only, from the simulator bundle: the wasm runtime is not part of activation.
  parserPromise ??= Promise.resolve().then(() => loadSim().createCParser());
  return parserPromise;
}

function declaratorName(d: SyntaxNode | null): { name?: string; params?: SyntaxNode; pointer: boolean } {
  let pointer = false;
  while (d) {
    if (d.type === 'function_declarator') {
      const inner = d.childForFieldName('declarator');
      const params = d.childForFieldName('parameters') ?? undefined;
      // `void *f(void *)` returns a pointer: the pointer wraps the function declarator.
      if (inner?.type === 'identifier') return { name: inner.text, params, pointer };
      return { name: undefined, params, pointer };
    }
    if (d.type === 'pointer_declarator') pointer = true;
    d = d.childForFieldName('declarator');
  }
  return { pointer };
}

/** `(void *)` or `(void *name)`, including `const void *`. */
function isVoidPtrParams(params: SyntaxNode | undefined): boolean {
  if (!params) return false;
  const ps = params.namedChildren.filter((n): n is SyntaxNode => !!n && n.type !== 'comment');
  if (ps.length !== 1 || ps[0].type !== 'parameter_declaration') return false;
  const type = ps[0].childForFieldName('type');
  const decl = ps[0].childForFieldName('declarator');
  if (type?.text !== 'void' || !decl) return false;
  if (decl.type !== 'abstract_pointer_declarator' && decl.type !== 'pointer_declarator') return false;
  const inner = decl.childForFieldName('declarator');
  return !inner || inner.type === 'identifier';
}

export async function scanC(text: string): Promise<CFunction[]> {
  const p = await parser();
  const tree = p.parse(text);
  if (!tree) return [];
  try {
    const out: CFunction[] = [];
    const handlers = new Set<string>();
    // `.ct_save = f` in initializers, and the handler arguments of the positional API.
    for (const init of tree.rootNode.descendantsOfType('initializer_pair')) {
      const field = init?.childForFieldName('designator')?.text ?? init?.namedChildren[0]?.text ?? '';
      const value = init?.childForFieldName('value');
      if ((SLOTS as readonly string[]).includes(field.slice(1)) && value?.type === 'identifier') handlers.add(value.text);
    }
    for (const call of tree.rootNode.descendantsOfType('call_expression')) {
      const callee = call?.childForFieldName('function')?.text;
      if (!callee || !LEGACY_API.has(callee)) continue;
      const args = call!.childForFieldName('arguments')?.namedChildren ?? [];
      for (const a of args.slice(LEGACY_HANDLER_BASE)) if (a?.type === 'identifier') handlers.add(a.text);
    }
    for (const fn of tree.rootNode.descendantsOfType('function_definition')) {
      if (!fn) continue;
      const { name, params, pointer } = declaratorName(fn.childForFieldName('declarator'));
      if (!name) continue;
      const type = fn.childForFieldName('type');
      const threadEntry = type?.text === 'void' && !pointer && isVoidPtrParams(params);
      const ctxopCalls: CFunction['ctxopCalls'] = [];
      const body = fn.childForFieldName('body');
      for (const call of body ? body.descendantsOfType('call_expression') : []) {
        const callee = call?.childForFieldName('function');
        if (!call || callee?.type !== 'identifier' || !CTXOP_INSTALLERS.has(callee.text)) continue;
        const args = call.childForFieldName('arguments')?.namedChildren.filter((n) => n && n.type !== 'comment').length ?? 0;
        ctxopCalls.push({ name: callee.text, args, line: call.startPosition.row });
      }
      out.push({ name, line: fn.startPosition.row, threadEntry, handler: handlers.has(name), ctxopCalls });
    }
    return out;
  } finally {
    tree.delete();
  }
}

/** The era a set of ctxop calls was written for (undefined when the calls say nothing): core/infer-era.ts. */
export function eraOfCalls(calls: CFunction['ctxopCalls']): EraId | undefined {
  return runEraOf({ calls });
}

/** One line saying which kernels a function's ctxop calls work on, for the code lens. */
export function eraVerdict(calls: CFunction['ctxopCalls'], setting: string): string {
  const modern = calls.filter((c) => c.name.startsWith('ctxop_'));
  const legacy = calls.filter((c) => !c.name.startsWith('ctxop_'));
  if (!legacy.length) return `ctxop_template API (${modern.map((c) => c.name).join(', ')}): illumos-13917`;
  const inst = legacy.find((c) => c.name === 'installctx');
  let era: string;
  const [old, cur] = [installctxArity('12477'), installctxArity('13915')];
  if (inst && inst.args === cur) era = `installctx() with ${cur} arguments: illumos-13915`;
  else if (inst && inst.args === old) era = `installctx() with ${old} arguments: before illumos-13915`;
  else if (inst) era = `installctx() with ${inst.args} arguments: no illumos kernel (${old} before 13915, ${cur} from it)`;
  else era = `${legacy[0].name}(): illumos-13915`;
  const target = setting === '13917' ? ' (the configured kernel)' : '';
  return `${era}; gone in illumos-13917${target}`;
}
