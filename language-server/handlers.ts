/** Where this file binds functions to ctxop slots: template initializers and legacy installctx() arguments. */
import type { FileModel } from './model';
import type { SyntaxNode } from './syntax';
import { callArgs, lineOf, unwrap } from './syntax';
import type { Slot } from './ctxapi';
import { LEGACY_HANDLER_BASE, SLOTS, handlerText } from './ctxapi';

export interface HandlerBinding {
  slot: Slot;
  name: string; // the handler function's name
  ref: SyntaxNode; // where it is bound
  via: string; // "template 'x'" or "installctx() at line N"
}

export function handlerBindings(m: FileModel): HandlerBinding[] {
  const out: HandlerBinding[] = [];
  for (const t of m.templates.values()) {
    for (const [slot, node] of t.handlerNodes) {
      const name = handlerText(node);
      if (/^[A-Za-z_]\w*$/.test(name)) out.push({ slot: slot as Slot, name, ref: unwrap(node) ?? node, via: `ctxop template '${t.name}'` });
    }
  }
  for (const c of m.callsTo('installctx')) {
    const a = callArgs(c);
    SLOTS.forEach((slot, i) => {
      const n = a[LEGACY_HANDLER_BASE + i];
      const name = handlerText(n);
      if (n && name !== 'NULL' && /^[A-Za-z_]\w*$/.test(name)) out.push({ slot, name, ref: unwrap(n) ?? n, via: `installctx() at line ${lineOf(c)}` });
    });
  }
  return out;
}
