/**
 * Lock discipline within one function, shared by lock-not-released and unlock-not-held: which
 * acquire/release pairs are held or released on each path, with one-level summaries of same-file
 * callees that always release (Minix clone_opcl unlocked the caller's vnode before a fallible step).
 */
import type { FileModel } from './model';
import type { SyntaxNode } from './syntax';
import { callArgs, callName, functionDeclaratorOf, lineOf, paramShape, parameters, unwrap, walk } from './syntax';
import type { PathState, Step } from './flow';
import { FlowWalker, initialState, renderTrail } from './flow';

export const PAIRS: ReadonlyMap<string, string> = new Map([
  ['mutex_enter', 'mutex_exit'], ['mutex_lock', 'mutex_unlock'], ['mtx_lock', 'mtx_unlock'], ['mtx_lock_spin', 'mtx_unlock_spin'],
  ['pthread_mutex_lock', 'pthread_mutex_unlock'], ['lock_vnode', 'unlock_vnode'], ['lock_vmnt', 'unlock_vmnt'], ['lock_filp', 'unlock_filp'],
  ['rw_enter', 'rw_exit'], ['sx_xlock', 'sx_xunlock'], ['sx_slock', 'sx_sunlock'], ['rw_wlock', 'rw_wunlock'], ['rw_rlock', 'rw_runlock'],
]);
const RELEASES: ReadonlyMap<string, string> = new Map([...PAIRS].map(([a, r]) => [r, a]));
const TRY = /^(mutex_tryenter|mtx_trylock\w*|mutex_trylock|pthread_mutex_trylock|sx_try_\w+|rw_tryenter|rw_try_\w+|rw_tryupgrade)$/;
const LOCKISH = /lock|release|drop|exit/i;

type St = { held: boolean; at: SyntaxNode; via?: string };
type Facts = ReadonlyMap<string, St>;

export function lockKeyText(a: SyntaxNode | undefined): string {
  const u = unwrap(a);
  if (!u) return '';
  let t = u.text.replace(/\s+/g, '');
  if (t.startsWith('&')) t = t.slice(1);
  return t.replace(/^\((.*)\)$/, '$1');
}

const rootOf = (k: string) => /^[A-Za-z_]\w*/.exec(k)?.[0] ?? '';

export interface ExitInfo { node: SyntaxNode; how: 'return' | 'end'; value: string; held: Map<string, { at: SyntaxNode; trail: readonly Step[] }> }
export interface DoubleRelease { node: SyntaxNode; key: string; first: SyntaxNode; via?: string; trail: readonly Step[] }
export interface LockResult { exits: ExitInfo[]; doubles: DoubleRelease[]; acquires: Map<string, SyntaxNode[]>; untracked: Set<string> }

interface Summary { releases: string[] } // keys (in the callee's words) released on every exit

function summaries(m: FileModel): Map<string, Summary> {
  const c = m as unknown as { _lockSummaries?: Map<string, Summary> };
  if (c._lockSummaries) return c._lockSummaries;
  const out = new Map<string, Summary>();
  c._lockSummaries = out;
  for (const [name, fn] of m.fnByName) {
    if (fn.hasError || ![...RELEASES.keys()].some((r) => fn.text.includes(r))) continue;
    const res = analyze(m, fn, 1);
    if (!res.exits.length) continue;
    const released = new Map<string, number>();
    const rel = (res as unknown as { releasedAtExit: Map<string, number> }).releasedAtExit;
    for (const [k, n] of rel) if (n === res.exits.length) released.set(k, n);
    out.set(name, { releases: [...released.keys()] });
  }
  return out;
}

/** Runs the lock walk over one function. depth > 0: a summary pass (no callee summaries). */
export function analyze(m: FileModel, fn: SyntaxNode, depth = 0): LockResult {
  const exits: ExitInfo[] = [];
  const doubles: DoubleRelease[] = [];
  const acquires = new Map<string, SyntaxNode[]>();
  const untracked = new Set<string>();
  const releasedAtExit = new Map<string, number>();
  walk(fn, (n) => {
    if (n.type === 'call_expression') {
      const c = callName(n);
      if (TRY.test(c)) untracked.add(lockKeyText(callArgs(n)[0]));
      if (PAIRS.has(c)) { const k = lockKeyText(callArgs(n)[0]); acquires.set(k, [...(acquires.get(k) ?? []), n]); }
    }
    return n.type !== 'comment';
  });
  const params = new Map<string, number>();
  const fd = functionDeclaratorOf(fn);
  (fd ? parameters(fd) ?? [] : []).forEach((p, i) => { const s = paramShape(p); if (s.name) params.set(s.name, i); });
  const sums = depth === 0 ? summaries(m) : new Map<string, Summary>();
  const set = (s: PathState<Facts>, k: string, st: St | null, step?: Step): PathState<Facts> => {
    const f = new Map(s.facts);
    if (st) f.set(k, st); else f.delete(k);
    return { ...s, facts: f, trail: step ? [...s.trail, step] : s.trail };
  };
  const release = (s: PathState<Facts>, k: string, node: SyntaxNode, via?: string): PathState<Facts> => {
    if (!k || untracked.has(k)) return s;
    const prev = s.facts.get(k);
    const step = { line: lineOf(node), text: via ? `${callName(node)}() releases ${k}` : `${callName(node)}(${k})` };
    if (prev && !prev.held) doubles.push({ node, key: k, first: prev.at, via: prev.via, trail: [...s.trail, step] });
    return set(s, k, { held: false, at: node, via }, step);
  };
  const w = new FlowWalker<Facts>({
    key: (f) => [...f].map(([k, v]) => `${k}:${v.held ? 'h' : 'r'}:${v.at.id}`).sort().join(','),
    effect(node, s) {
      if (node.type !== 'call_expression') return s;
      const c = callName(node);
      const a = callArgs(node);
      if (PAIRS.has(c)) {
        const k = lockKeyText(a[0]);
        if (!k || untracked.has(k)) return s;
        return set(s, k, { held: true, at: node }, { line: lineOf(node), text: `${c}(${k})` });
      }
      if (RELEASES.has(c)) return release(s, lockKeyText(a[0]), node);
      const sum = sums.get(c);
      const callee = m.fnByName.get(c);
      if (sum && callee) {
        let out = s;
        const cfd = functionDeclaratorOf(callee);
        const cps = cfd ? parameters(cfd) ?? [] : [];
        for (const k of sum.releases) {
          const r = rootOf(k);
          const pi = cps.findIndex((p) => paramShape(p).name === r);
          let mine = k;
          if (pi >= 0) {
            const arg = lockKeyText(a[pi]);
            if (!arg || !/^[\w.>-]+$/.test(arg)) continue;
            mine = arg + k.slice(r.length);
          }
          out = release(out, mine, node, c);
        }
        return out;
      }
      // an unknown lock-ish call that is handed a tracked lock's object: its state is unknown now
      if (LOCKISH.test(c) || callee) {
        let out = s;
        const ids = new Set<string>();
        for (const x of a) walk(x, (n) => { if (n.type === 'identifier') ids.add(n.text); return true; });
        for (const k of s.facts.keys()) if (ids.has(rootOf(k)) || (callee && !a.length && LOCKISH.test(c))) out = set(out, k, null);
        return out;
      }
      return s;
    },
    exit(s, at, how) {
      const held = new Map<string, { at: SyntaxNode; trail: readonly Step[] }>();
      for (const [k, v] of s.facts) {
        if (v.held) held.set(k, { at: v.at, trail: s.trail });
        else releasedAtExit.set(k, (releasedAtExit.get(k) ?? 0) + 1);
      }
      const value = how === 'return' ? (at.namedChildren.find((x) => x && x.type !== 'comment')?.text ?? '').replace(/\s+/g, '').replace(/^\((.*)\)$/, '$1') : '';
      exits.push({ node: at, how, value, held });
    },
  }, { deadline: m.deadline });
  void params;
  w.run(fn, [initialState<Facts>(new Map())]);
  const res: LockResult & { releasedAtExit?: Map<string, number> } = { exits, doubles, acquires, untracked };
  res.releasedAtExit = releasedAtExit;
  return res;
}

export function lockResult(m: FileModel, fn: SyntaxNode): LockResult {
  const c = m as unknown as { _lockResults?: Map<number, LockResult> };
  c._lockResults ??= new Map();
  let r = c._lockResults.get(fn.id);
  if (!r) { r = analyze(m, fn); c._lockResults.set(fn.id, r); }
  return r;
}

export const LOCK_TRIGGER = /\b(mutex_enter|mutex_exit|mutex_lock|mutex_unlock|mtx_lock\w*|mtx_unlock\w*|pthread_mutex_\w*lock|lock_vnode|unlock_vnode|lock_vmnt|unlock_vmnt|lock_filp|unlock_filp|rw_enter|rw_exit|sx_\w*lock|rw_[rw]lock|rw_[rw]unlock)\s*\(/;

export const ERRORISH = (v: string) => /^-?E[A-Z0-9]+$|^-\d+$|^-1$|^(err|error|err_code|errno|rc|ret|rv|r|status|EFAULT)$/.test(v) || v === 'NULL';

export { renderTrail };
