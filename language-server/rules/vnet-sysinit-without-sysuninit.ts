/**
 * vnet-sysinit-without-sysuninit (FreeBSD): in a kernel module, VNET_SYSINIT with no VNET_SYSUNINIT;
 * a plain SYSINIT whose function sets up V_ state (it runs in vnet0 only).
 */
import type { Finding, Rule } from './types';
import type { FileModel } from '../model';
import type { Token } from '../vnet';
import { definesMacro, macroArgs, tokensOf, vnetNames } from '../vnet';
import { callName, walk } from '../syntax';
import type { SyntaxNode } from '../syntax';

const MODULE_MARKS = /\b(DECLARE_MODULE|DRIVER_MODULE|MODULE_VERSION|moduledata_t|KLD_MODULE|DEV_MODULE|VNET_DOMAIN_SET|DOMAIN_SET)\b/;

function usesV(m: FileModel, fnName: string): string | null {
  const fn = m.fnByName.get(fnName);
  if (!fn) return null;
  if (/\b(IS_DEFAULT_VNET|VNET_FOREACH|CURVNET_SET\w*)\b/.test(fn.text)) return null; // deliberate vnet0-only work, or it walks every vnet
  const names = vnetNames(m);
  let hit: string | null = null;
  walk(fn, (n) => {
    if (hit) return false;
    if (n.type === 'identifier' && names.has(n.text)) hit = n.text;
    return n.type !== 'comment';
  });
  return hit;
}

/** Calls that initialise storage in place and leave nothing to free or unregister. */
const IN_PLACE_INITS = /^(LIST_INIT|SLIST_INIT|STAILQ_INIT|TAILQ_INIT|CK_LIST_INIT|CK_SLIST_INIT|CK_STAILQ_INIT|bzero|memset)$/;

/** A constructor that only initialises list heads and plain values: a VNET_SYSUNINIT would have nothing to undo. */
function setsUpNothing(fn: SyntaxNode): boolean {
  let other = false;
  walk(fn, (n) => {
    if (other) return false;
    if (n.type === 'call_expression' && !IN_PLACE_INITS.test(callName(n))) other = true;
    return true;
  });
  return !other;
}

export const rule: Rule = {
  id: 'vnet-sysinit-without-sysuninit',
  title: 'VNET_SYSINIT without VNET_SYSUNINIT in a module',
  severity: 'warning',
  confidence: 'medium',
  rationale:
    'VNET_SYSINIT registers a constructor that runs in every existing vnet and in each new one (vnet_register_sysinit). Its teardown is a VNET_SYSUNINIT: without one, destroying a jail\'s vnet never frees or unregisters what the constructor made, and kldunload leaves it behind in every vnet. A plain SYSINIT that sets up V_ state runs once, in vnet0 only (vnet_sysinit never runs it for new vnets), so every jail vnet starts without that state.',
  trigger: /\b(VNET_SYSINIT|SYSINIT)\s*\(/,
  scope: { reads: /\b(VNET_SYSINIT|SYSINIT)\s*\(/, named: 'direct' }, // the functions they run
  check(m, report) {
    if (!MODULE_MARKS.test(m.text) || definesMacro(m.text, 'VNET_SYSINIT')) return;
    const toks = tokensOf(m);
    const inits: Token[] = [];
    let uninits = 0;
    const plain: { t: Token; func: string; open: number }[] = [];
    for (let i = 0; i + 1 < toks.length; i++) {
      const t = toks[i]!;
      if (t.inDefine || toks[i + 1]!.text !== '(' || t.config === 'novimage') continue;
      if (t.text === 'VNET_SYSINIT') {
        const f = macroArgs(toks, i + 1)[3];
        const fn = f && f.to - f.from === 1 ? m.fnByName.get(toks[f.from]!.text) : undefined;
        if (!fn || !setsUpNothing(fn)) inits.push(t);
      }
      else if (t.text === 'VNET_SYSUNINIT') uninits++;
      else if (t.text === 'SYSINIT') {
        const a = macroArgs(toks, i + 1);
        const f = a[3];
        if (f && f.to - f.from === 1) plain.push({ t, func: toks[f.from]!.text, open: i + 1 });
      }
    }
    const say = (t: Token, len: number, message: string) => {
      const f: Finding = { range: { start: { line: t.line, character: t.col }, end: { line: t.line, character: t.col + len } }, message };
      const node = m.root.namedDescendantForIndex(t.index, t.index + 1);
      if (node) f.node = node;
      report(f);
    };
    if (inits.length && !uninits) {
      for (const t of inits) say(t, t.text.length, 'VNET_SYSINIT in a module with no VNET_SYSUNINIT: when a vnet (jail) is destroyed, or the module is unloaded, nothing undoes this constructor in each vnet; add a VNET_SYSUNINIT that frees and unregisters what it set up');
    }
    for (const p of plain) {
      const v = usesV(m, p.func);
      if (v) say(p.t, p.t.text.length, `SYSINIT runs ${p.func}(), which sets up ${v}, once and in vnet0 only: vnets created later (jails) never get it; use VNET_SYSINIT (and VNET_SYSUNINIT), or guard vnet0-only work with IS_DEFAULT_VNET(curvnet)`);
    }
  },
};
