/**
 * FreeBSD VNET (VIMAGE) facts shared by the vnet rules, the hover and the `--vnet-abi` report:
 * the CURVNET macros, preprocessor branches on VIMAGE, `V_x` names resolved through their
 * `#define V_x VNET(x)` (or a small table of kernel names), and a token scanner for file-scope
 * macros that tree-sitter parses as ERROR nodes (`VNET_DEFINE(int, x) = 1;`, `SYSCTL_INT(...)`).
 */
import type { FileModel } from './model';
import type { SyntaxNode } from './syntax';
import { lexC } from '../core/clex';

export const CURVNET_SETS = new Set(['CURVNET_SET', 'CURVNET_SET_QUIET', 'CURVNET_SET_VERBOSE']);
export const SET_RE = /\bCURVNET_SET(?:_QUIET|_VERBOSE)?\b/;

const PREPROC_BRANCH = new Set(['preproc_if', 'preproc_ifdef', 'preproc_elif', 'preproc_elifdef', 'preproc_else']);

/**
 * Kernel virtualized variables a module commonly touches, with the header that declares them
 * (`VNET_DECLARE(t, x); #define V_x VNET(x)`). Used when the file does not define V_x itself.
 */
export const KERNEL_V_NAMES: ReadonlyMap<string, string> = new Map([
  ['V_ifnet', 'net/if_var.h'], ['V_loif', 'net/if_var.h'], ['V_if_index', 'net/if_var.h'],
  ['V_ipforwarding', 'netinet/ip_var.h'], ['V_ip_defttl', 'netinet/ip_var.h'], ['V_in_ifaddrhead', 'netinet/in_var.h'],
  ['V_tcbinfo', 'netinet/tcp_var.h'], ['V_udbinfo', 'netinet/udp_var.h'], ['V_ripcbinfo', 'netinet/ip_var.h'],
  ['V_ip6_forwarding', 'netinet6/ip6_var.h'],
]);

/** Kernel functions that use curvnet themselves (they dereference it through V_ variables). */
export const CURVNET_APIS = new Set(['ifunit', 'ifunit_ref', 'netisr_dispatch', 'netisr_dispatch_src', 'netisr_queue', 'netisr_queue_src', 'ip_output', 'ip6_output', 'if_clone_create', 'if_clone_destroy']);

/** True when n sits where VIMAGE is not defined: `#ifndef VIMAGE`, `#if !defined(VIMAGE)`, or the `#else` of `#ifdef VIMAGE`. */
export function inNoVimageBranch(n: SyntaxNode): boolean {
  let child: SyntaxNode = n;
  for (let a = n.parent; a; child = a, a = a.parent) {
    if (!PREPROC_BRANCH.has(a.type)) continue;
    const alt = a.childForFieldName('alternative');
    if (alt && alt.id === child.id) continue; // n is in a later branch: judged there
    const v = vimageBranch(a);
    if (v === false) return true;
  }
  return false;
}

/** For a preprocessor branch node: true when it is taken only with VIMAGE, false only without, null when unrelated. */
function vimageBranch(a: SyntaxNode): boolean | null {
  if (a.type === 'preproc_ifdef' && a.childForFieldName('name')?.text === 'VIMAGE') return a.child(0)?.text === '#ifdef';
  if (a.type === 'preproc_if' || a.type === 'preproc_elif') {
    const c = (a.childForFieldName('condition')?.text ?? '').replace(/\s+/g, '');
    if (c === 'defined(VIMAGE)' || c === 'definedVIMAGE' || c === 'VIMAGE') return true;
    if (c === '!defined(VIMAGE)' || c === '!definedVIMAGE' || c === '!VIMAGE') return false;
    return null;
  }
  if (a.type === 'preproc_else') {
    const p = a.parent;
    if (p && PREPROC_BRANCH.has(p.type) && p.childForFieldName('alternative')?.id === a.id) {
      const v = vimageBranch(p);
      return v === null ? null : !v;
    }
  }
  return null;
}

/** The preprocessor branches (chain root id -> branch id) that contain n. */
function branchesOf(n: SyntaxNode): Map<number, number> {
  const out = new Map<number, number>();
  let child: SyntaxNode = n;
  for (let a = n.parent; a; child = a, a = a.parent) {
    if (!PREPROC_BRANCH.has(a.type)) continue;
    const alt = a.childForFieldName('alternative');
    if (alt && alt.id === child.id) continue;
    let root = a;
    while (root.parent && PREPROC_BRANCH.has(root.parent.type) && root.parent.childForFieldName('alternative')?.id === root.id) root = root.parent;
    if (!out.has(root.id)) out.set(root.id, a.id);
  }
  return out;
}

/** Are a and b in different branches of one #if/#else chain (never compiled together)? */
export function exclusiveBranches(a: SyntaxNode, b: SyntaxNode): boolean {
  const x = branchesOf(a);
  const y = branchesOf(b);
  for (const [root, br] of x) if (y.has(root) && y.get(root) !== br) return true;
  return false;
}

/** Does the file define the named macro itself (a userland port, or vnet.h)? */
export function definesMacro(text: string, name: string): boolean {
  return new RegExp(`#\\s*define\\s+${name}\\b`).test(text);
}

/** The compound statement n's statement belongs to, passing through labels and case labels only. */
export function scopeBlock(stmt: SyntaxNode): SyntaxNode | null {
  let cur = stmt.parent;
  while (cur && (cur.type === 'labeled_statement' || cur.type === 'case_statement' || PREPROC_BRANCH.has(cur.type))) cur = cur.parent;
  return cur && cur.type === 'compound_statement' ? cur : null;
}

/** The statement holder a CURVNET call is the unbraced body of (if/else/loop), else null. */
export function unbracedHolder(call: SyntaxNode): SyntaxNode | null {
  const stmt = call.parent;
  const holder = stmt?.parent;
  if (stmt?.type === 'expression_statement' && holder && /^(if_statement|else_clause|for_statement|while_statement|do_statement)$/.test(holder.type)) return holder;
  return null;
}

/** V_ names of this file: `#define V_x VNET(x)` (and the kernel table), name -> variable. */
export function vnetNames(m: FileModel): Map<string, { variable: string; line: number; local: boolean }> {
  const cached = (m as unknown as { _vnetNames?: Map<string, { variable: string; line: number; local: boolean }> })._vnetNames;
  if (cached) return cached;
  const out = new Map<string, { variable: string; line: number; local: boolean }>();
  const re = /^[ \t]*#[ \t]*define[ \t]+(V_\w+)[ \t]+(.*)$/gm;
  const other = new Set<string>();
  for (let r = re.exec(m.text); r; r = re.exec(m.text)) {
    const v = /^\(?\s*VNET\s*\(\s*(\w+)\s*\)\s*\)?\s*(?:\/[*/].*)?$/.exec(r[2]!);
    const line = m.text.slice(0, r.index).split('\n').length - 1;
    if (v) out.set(r[1]!, { variable: v[1]!, line, local: true });
    else other.add(r[1]!);
  }
  for (const k of KERNEL_V_NAMES.keys()) if (!out.has(k) && !other.has(k)) out.set(k, { variable: k.slice(2), line: -1, local: false });
  (m as unknown as { _vnetNames?: unknown })._vnetNames = out;
  return out;
}

/**
 * Can an `&V_x` of this text name a VNET variable (vnetNames() of the text, or of any configuration
 * of it: every kernel V_ name counts, and every `#define V_x VNET(x)` whatever branch it is in)?
 */
export function mayNameVnetVariable(text: string): boolean {
  for (const r of text.matchAll(/&\s*(V_\w+)/g)) {
    const name = r[1]!;
    if (KERNEL_V_NAMES.has(name)) return true;
    if (new RegExp(`^[ \\t]*#[ \\t]*define[ \\t]+${name}[ \\t]+\\(?\\s*VNET\\s*\\(`, 'm').test(text)) return true;
  }
  return false;
}

// ---- token scanner ----

export interface Token {
  text: string;
  index: number;
  line: number; // 0-based
  col: number;
  /** 'vimage' | 'novimage' | 'both': which configuration compiles this token. */
  config: 'vimage' | 'novimage' | 'both';
  /** The token sits in a #define body. */
  inDefine: boolean;
}

/**
 * C tokens of a file (the shared lexer's, core/clex.ts; string contents dropped), with the VIMAGE
 * configuration of the preprocessor branch each one is in. Preprocessor directive lines other than
 * #define names and bodies are not tokens.
 */
export function tokenize(text: string): Token[] {
  const out: Token[] = [];
  // stack of frames: the VIMAGE meaning of the current branch (null: unrelated)
  const stack: { v: boolean | null; inElse: boolean }[] = [];
  const config = (): Token['config'] => {
    let c: Token['config'] = 'both';
    for (const f of stack) {
      if (f.v === null) continue;
      const on = f.inElse ? !f.v : f.v;
      c = on ? 'vimage' : 'novimage';
    }
    return c;
  };
  const at: number[] = [];
  const toks = lexC(text, 0, undefined, at);
  const push = (k: number, inDefine: boolean) => {
    const t = toks[k]!;
    if (t.k === 'other' && t.v === '\\') return;
    const v = t.k === 'str' ? '""' : t.k === 'chr' ? "''" : t.v;
    out.push({ text: v, index: at[k]!, line: t.line - 1, col: t.col - 1, config: config(), inDefine });
  };
  for (let k = 0; k < toks.length; ) {
    const t = toks[k]!;
    if (!(t.bol && t.v === '#')) {
      push(k++, false);
      continue;
    }
    // A directive: its tokens run to the next line's first token.
    let e = k + 1;
    while (e < toks.length && !toks[e]!.bol) e++;
    const kw = k + 1 < e ? toks[k + 1]!.v : '';
    const rest = toks.slice(k + 2, e).map((x) => x.v).join('');
    if (kw === 'define') {
      // The name and the body are tokens, flagged inDefine.
      for (let d = k + 2; d < e; d++) push(d, true);
    } else if (kw === 'ifdef' || kw === 'ifndef') stack.push({ v: toks[k + 2]?.v === 'VIMAGE' && k + 2 < e ? kw === 'ifdef' : null, inElse: false });
    else if (kw === 'if') stack.push({ v: vimageCond(rest), inElse: false });
    else if (kw === 'elif') { const top = stack[stack.length - 1]; if (top) { top.v = vimageCond(rest); top.inElse = false; } }
    else if (kw === 'else') { const top = stack[stack.length - 1]; if (top) top.inElse = true; }
    else if (kw === 'endif') stack.pop();
    k = e;
  }
  return out;
}

function vimageCond(c: string): boolean | null {
  const t = c.replace(/\s+/g, '');
  if (t === 'defined(VIMAGE)' || t === 'definedVIMAGE' || t === 'VIMAGE') return true;
  if (t === '!defined(VIMAGE)' || t === '!definedVIMAGE' || t === '!VIMAGE') return false;
  return null;
}

/** Index of the token closing the parenthesis opened at tokens[open] (or -1). */
export function closeParen(tokens: Token[], open: number): number {
  let depth = 0;
  for (let k = open; k < tokens.length; k++) {
    const t = tokens[k]!.text;
    if (t === '(') depth++;
    else if (t === ')' && --depth === 0) return k;
  }
  return -1;
}

/** Arguments (token ranges [from, to)) of the macro call whose '(' is tokens[open]. */
export function macroArgs(tokens: Token[], open: number): { from: number; to: number }[] {
  const end = closeParen(tokens, open);
  if (end < 0) return [];
  const out: { from: number; to: number }[] = [];
  let depth = 0;
  let from = open + 1;
  for (let k = open + 1; k < end; k++) {
    const t = tokens[k]!.text;
    if (t === '(' || t === '[' || t === '{') depth++;
    else if (t === ')' || t === ']' || t === '}') depth--;
    else if (t === ',' && depth === 0) { out.push({ from, to: k }); from = k + 1; }
  }
  out.push({ from, to: end });
  return out;
}

export function argText(tokens: Token[], a: { from: number; to: number }): string {
  return tokens.slice(a.from, a.to).map((t) => t.text).join(' ').replace(/\s*([(),&*|])\s*/g, '$1');
}

/** The innermost macro or function call around tokens[at]: the name token index and its '(' index. */
export function enclosingCall(tokens: Token[], at: number): { name: number; open: number } | null {
  let depth = 0;
  for (let k = at - 1; k >= 0; k--) {
    const t = tokens[k]!.text;
    if (t === ')') depth++;
    else if (t === '(') {
      if (depth === 0) {
        const nm = tokens[k - 1];
        if (nm && /^[A-Za-z_]\w*$/.test(nm.text)) return { name: k - 1, open: k };
        // a parenthesized expression: keep looking outward
        continue;
      } else depth--;
    } else if ((t === ';' || t === '{' || t === '}') && depth === 0) return null;
  }
  return null;
}

export function tokensOf(m: FileModel): Token[] {
  const c = m as unknown as { _tokens?: Token[] };
  c._tokens ??= tokenize(m.text);
  return c._tokens;
}
