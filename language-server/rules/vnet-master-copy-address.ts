/**
 * vnet-master-copy-address (FreeBSD): the address of a VNET variable's master copy (`&VNET_NAME(x)`,
 * `vnet_entry_x`) used as if it were the variable; sysctls that mix the two up; `&V_x` kept in a global.
 * Token-level: file-scope SYSCTL_*(...) and VNET_DEFINE(...) often parse as ERROR nodes.
 */
import type { Finding, Rule } from './types';
import type { FileModel } from '../model';
import type { SyntaxNode } from '../syntax';
import { lvalueRoot, rangeOf, unwrap, walk } from '../syntax';
import type { Token } from '../vnet';
import { argText, definesMacro, enclosingCall, inNoVimageBranch, macroArgs, mayNameVnetVariable, tokensOf, vnetNames } from '../vnet';

const PTR_MACROS = /^(_VNET_PTR|VNET_PTR|VNET_VNET|VNET_VNET_PTR|VNET_NAME|VNET_DEFINE|VNET_DEFINE_STATIC|VNET_DECLARE)$/;

function tokRange(a: Token, b: Token) {
  return { start: { line: a.line, character: a.col }, end: { line: b.line, character: b.col + b.text.length } };
}

/** VNET variables of the file: VNET_DEFINE/VNET_DEFINE_STATIC/VNET_DECLARE names and the V_ table. */
function vnetVariables(m: FileModel, toks: Token[]): Set<string> {
  const out = new Set<string>();
  for (let i = 0; i + 1 < toks.length; i++) {
    if (/^VNET_(DEFINE|DEFINE_STATIC|DECLARE)$/.test(toks[i]!.text) && toks[i + 1]!.text === '(' && !toks[i]!.inDefine) {
      const args = macroArgs(toks, i + 1);
      const last = args[args.length - 1];
      if (last && last.to - last.from === 1) out.add(toks[last.from]!.text);
    }
  }
  for (const v of vnetNames(m).values()) out.add(v.variable);
  return out;
}

const INTEGER_TYPES = /^(uintptr_t|intptr_t|vm_offset_t|vm_paddr_t|vm_size_t|size_t|u_long|long|uint64_t|int64_t)$/;

/** Is the `&` at toks[amp] under a cast to an integer type, `(uintptr_t)&...`? */
function integerCast(toks: Token[], amp: number): boolean {
  if (toks[amp - 1]?.text !== ')') return false;
  let k = amp - 2;
  if (!toks[k] || !INTEGER_TYPES.test(toks[k]!.text)) return false;
  while (toks[k - 1] && /^(unsigned|signed|long|const)$/.test(toks[k - 1]!.text)) k--;
  return toks[k - 1]?.text === '(';
}

export const rule: Rule = {
  id: 'vnet-master-copy-address',
  title: 'Address of a VNET master copy used as the variable',
  severity: 'error',
  confidence: 'high',
  rationale:
    'Under VIMAGE every VNET_DEFINE variable lives in the set_vnet linker set as a master copy: the initial values for new vnets and an offset; the live instances are copies at vnet_data_base + &vnet_entry_x in each vnet. &VNET_NAME(x) (or vnet_entry_x) therefore points at the template, not at any vnet\'s variable: reads see the initial value, writes change what future vnets start with. It is right only where an offset is meant: VNET_PTR/VNET_VNET and virtualized sysctls (SYSCTL_VNET_*, or CTLFLAG_VNET, which add the vnet base). Conversely a virtualized sysctl given &x or &V_x breaks: vnet(9) requires &VNET_NAME(x). Without VIMAGE both spellings are the same global, so only the VIMAGE build misbehaves.',
  trigger: /\bVNET_NAME\b|\bvnet_entry_\w|&\s*V_\w/,
  scope: { reads: /\bVNET_NAME\b|\bvnet_entry_\w|&\s*V_\w|\bSYSCTL_\w/ },
  // what check() reads before its tokens, for the text and any configuration of it: illumos'
  // `& V_XATTRDIR` flag tests name no vnet variable, and the file is not even parsed
  mayReport: (text) => /\bVNET_NAME\b|\bvnet_entry_\w|\bSYSCTL_/.test(text) || mayNameVnetVariable(text),
  check(m, report) {
    if (definesMacro(m.text, 'VNET_NAME')) return; // vnet.h itself, or a port with its own macros
    // Without VNET_NAME, vnet_entry_ and SYSCTL_ only `&V_x = ...` of a vnet variable can be found:
    // a file whose `&V_` names none (illumos' `& V_XATTRDIR` flag tests) is done before its tokens are read.
    if (!/\bVNET_NAME\b|\bvnet_entry_\w|\bSYSCTL_/.test(m.text)) {
      const names = vnetNames(m);
      let any = false;
      for (const r of m.text.matchAll(/&\s*(V_\w+)/g)) if (names.has(r[1]!)) { any = true; break; }
      if (!any) return;
    }
    const toks = tokensOf(m);
    const vars = vnetVariables(m, toks);
    const names = vnetNames(m);
    const say = (a: Token, b: Token, message: string) => {
      const node = m.root.namedDescendantForIndex(a.index, a.index + 1);
      const f: Finding = { range: tokRange(a, b), message };
      if (node) f.node = node;
      report(f);
    };
    for (let i = 0; i < toks.length; i++) {
      const t = toks[i]!;
      if (t.inDefine || t.config === 'novimage') continue;
      const isName = t.text === 'VNET_NAME' && toks[i + 1]?.text === '(' && toks[i + 3]?.text === ')';
      const isEntry = /^vnet_entry_\w+$/.test(t.text);
      if (isName || isEntry) {
        const end = isName ? i + 3 : i;
        const amp = toks[i - 1]?.text === '&';
        const sym = isName ? `vnet_entry_${toks[i + 2]!.text}` : t.text;
        const call = enclosingCall(toks, amp ? i - 1 : i);
        const callee = call ? toks[call.name]!.text : '';
        if (PTR_MACROS.test(callee) && !amp) continue;
        if (/^(_VNET_PTR|VNET_PTR|VNET_VNET|VNET_VNET_PTR)$/.test(callee)) continue;
        if (!amp && isName) continue; // VNET_NAME(x) as an lvalue/name is the master copy too, but only flagged when its address is taken
        if (amp && integerCast(toks, i - 1)) continue; // (uintptr_t)&VNET_NAME(x): address arithmetic on the set itself (the vnet allocator)
        const start = amp ? toks[i - 1]! : t;
        if (/^SYSCTL_/.test(callee)) {
          const args = call ? macroArgs(toks, call.open) : [];
          const vnetFlag = /^SYSCTL_(ADD_)?VNET_/.test(callee) || args.some((a) => /\bCTLFLAG_VNET\b/.test(argText(toks, a)));
          if (vnetFlag) continue;
          say(start, toks[end]!, `${callee}() without CTLFLAG_VNET is given the master copy ${amp ? '&' : ''}${isName ? `VNET_NAME(${toks[i + 2]!.text})` : sym}: under VIMAGE the sysctl reads and writes the template in set_vnet, not any vnet's value; add CTLFLAG_VNET to its flags`);
          continue;
        }
        say(start, toks[end]!, `${amp ? '&' : ''}${isName ? `VNET_NAME(${toks[i + 2]!.text})` : sym} is the master copy in set_vnet under VIMAGE (the template for new vnets and an offset), not the variable of any vnet; use V_x for the current vnet's instance, or VNET_VNET(vnet, x) for a given vnet`);
        continue;
      }
      // virtualized sysctl given &x or &V_x
      if (t.text === '&' && !t.inDefine) {
        const nx = toks[i + 1];
        if (!nx || !/^[A-Za-z_]\w*$/.test(nx.text) || toks[i + 2]?.text === '(' || toks[i + 2]?.text === '->' || toks[i + 2]?.text === '.' || toks[i + 2]?.text === '[') continue;
        const isV = names.has(nx.text);
        if (!isV && !vars.has(nx.text)) continue;
        const call = enclosingCall(toks, i);
        const callee = call ? toks[call.name]!.text : '';
        if (!/^SYSCTL_/.test(callee)) continue;
        const args = macroArgs(toks, call!.open);
        const vnetFlag = /^SYSCTL_(ADD_)?VNET_/.test(callee) || args.some((a) => /\bCTLFLAG_VNET\b/.test(argText(toks, a)));
        if (!vnetFlag) continue;
        const x = isV ? names.get(nx.text)!.variable : nx.text;
        say(t, nx, `virtualized sysctl ${callee}() is given &${nx.text}: CTLFLAG_VNET sysctls add the vnet's data base to the address, so they need the offset &VNET_NAME(${x}) (vnet(9)); &${nx.text} is ${isV ? 'one vnet\'s instance, computed at the wrong time' : 'not a symbol at all under VIMAGE'}`);
      }
    }
    // &V_x stored in a file-scope variable: a pointer into one vnet outlives it (use after vnet_destroy)
    if (!/&\s*V_\w/.test(m.text)) return;
    for (const fn of m.functions) {
      if (!/&\s*V_\w/.test(fn.text) || inNoVimageBranch(fn)) continue;
      const locals = new Set<string>();
      walk(fn, (n) => {
        if (n.type === 'parameter_declaration' || n.type === 'declaration') {
          for (const d of n.childrenForFieldName('declarator')) {
            let cur: SyntaxNode | null = d;
            while (cur && cur.type !== 'identifier') cur = cur.childForFieldName('declarator');
            if (cur) locals.add(cur.text);
          }
        }
        return true;
      });
      walk(fn, (n) => {
        if (n.type !== 'assignment_expression') return true;
        const r = unwrap(n.childForFieldName('right'));
        if (!r || r.type !== 'pointer_expression' || r.child(0)?.text !== '&') return true;
        const v = unwrap(r.childForFieldName('argument'));
        if (!v || v.type !== 'identifier' || !names.has(v.text)) return true;
        const root = lvalueRoot(n.childForFieldName('left'));
        if (!root || locals.has(root) || /->|\*/.test(n.childForFieldName('left')?.text ?? '')) return true;
        if (names.has(root) || vars.has(root)) return true; // kept inside the same vnet's storage (a list head pointing at itself)
        report({ range: rangeOf(n), node: n, message: `&${v.text} (the instance in the current vnet) is kept in the global '${root}': it outlives the vnet (a use after vnet_destroy) and is wrong for every other vnet; keep the vnet and use VNET_VNET(vnet, ${names.get(v.text)!.variable}), or store it per vnet` });
        return true;
      });
    }
  },
};
