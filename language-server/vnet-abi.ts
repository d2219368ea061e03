/**
 * The VNET config-ABI report: a module's VNET macros expanded with and without VIMAGE (vnet.h's two
 * branches), the external symbols that differ, and the `kldload` error each mismatch prints
 * (`link_elf_obj: symbol NAME undefined`). `kctx lint --vnet-abi PATH...` prints it; the language
 * server shows the two expansions on hover. The ABI itself (which macro links against what) is
 * core/vnet-abi.ts, shared with the simulator's headers.
 */
import type { FileModel } from './model';
import type { Token } from './vnet';
import { macroArgs, tokenize, vnetNames } from './vnet';
import { kldUndefined, VNET_MACROS, VNET_SETNAME, VNET_VAR_MACROS, vnetSymbol } from '../core/vnet-abi';

export interface AbiItem {
  line: number; // 1-based
  construct: string; // what in the source, e.g. "V_ifnet", "VNET_SYSINIT(pc_init)"
  vimage: string[]; // external symbols it references when built with VIMAGE
  novimage: string[]; // ... without VIMAGE
  defines?: { vimage: string; novimage: string; section: string }; // a module variable
}

export interface LoadError { symbol: string; line: number; construct: string; message: string }

export interface AbiReport {
  file: string;
  items: AbiItem[];
  /** A module built with VIMAGE, loaded on a kernel without it. */
  onNonVimageKernel: LoadError[];
  /** A module built without VIMAGE, loaded on a VIMAGE kernel. */
  onVimageKernel: LoadError[];
  /** What happens when the second case loads anyway (no kernel VNET symbol referenced). */
  silent: string | null;
}

const FIXED = VNET_MACROS;
const VAR_MACROS = VNET_VAR_MACROS;
const msg = kldUndefined;

/** Builds the report from a file's text (no parse needed: file-scope VNET macros parse badly). */
export function vnetAbiReport(text: string, file: string, m?: FileModel): AbiReport {
  const toks = tokenize(text);
  const names = m ? vnetNames(m) : vnetNamesFromText(text);
  const items: AbiItem[] = [];
  const defined = new Set<string>();
  // module variables first (a V_ use of one is not a kernel reference)
  for (let i = 0; i + 1 < toks.length; i++) {
    const t = toks[i]!;
    if (t.inDefine || toks[i + 1]!.text !== '(' || !/^VNET_DEFINE(_STATIC)?$/.test(t.text)) continue;
    const a = macroArgs(toks, i + 1);
    const last = a[a.length - 1];
    if (!last || last.to - last.from !== 1) continue;
    const x = toks[last.from]!.text;
    defined.add(x);
    items.push({ line: t.line + 1, construct: `${t.text}(${x})`, vimage: [], novimage: [], defines: { vimage: vnetSymbol(x, true), novimage: vnetSymbol(x, false), section: VNET_SETNAME } });
  }
  const seenVar = new Set<string>();
  const kernelVar = (x: string, t: Token, construct: string) => {
    if (defined.has(x) || seenVar.has(x)) return;
    seenVar.add(x);
    items.push({ line: t.line + 1, construct, vimage: [vnetSymbol(x, true)], novimage: [vnetSymbol(x, false)] });
  };
  const seenFixed = new Set<string>();
  for (let i = 0; i < toks.length; i++) {
    const t = toks[i]!;
    if (t.inDefine) continue;
    const v = names.get(t.text);
    if (v && toks[i + 1]?.text !== '(') { kernelVar(v.variable, t, t.text); continue; }
    if (toks[i + 1]?.text !== '(') continue;
    const vi = VAR_MACROS.get(t.text);
    if (vi !== undefined) {
      const a = macroArgs(toks, i + 1)[vi];
      if (a && a.to - a.from === 1) kernelVar(toks[a.from]!.text, t, `${t.text}(${toks[a.from]!.text})`);
      continue;
    }
    const f = FIXED.get(t.text);
    if (f && t.config !== 'novimage') {
      const args = macroArgs(toks, i + 1).map((a) => toks.slice(a.from, a.to).map((x) => x.text).join(''));
      const c = f.construct(args);
      if (seenFixed.has(c)) continue;
      seenFixed.add(c);
      items.push({ line: t.line + 1, construct: c, vimage: [...f.vimage], novimage: [] });
    }
  }
  items.sort((a, b) => a.line - b.line);
  const first = (list: LoadError[], sym: string, it: AbiItem) => { if (!list.some((e) => e.symbol === sym)) list.push({ symbol: sym, line: it.line, construct: it.construct, message: msg(sym) }); };
  const onNonVimageKernel: LoadError[] = [];
  const onVimageKernel: LoadError[] = [];
  for (const it of items) {
    if (it.defines) continue;
    for (const s of it.vimage) first(onNonVimageKernel, s, it);
    for (const s of it.novimage) first(onVimageKernel, s, it);
  }
  let silent: string | null = null;
  if (!onVimageKernel.length && items.length) {
    const vars = items.filter((i) => i.defines).map((i) => i.defines!.novimage);
    const sysinits = items.filter((i) => i.construct.startsWith('VNET_SYSINIT')).length;
    const parts: string[] = [];
    if (vars.length) parts.push(`its VNET variables (${vars.join(', ')}) are ordinary globals, one instance shared by vnet0 and every jail vnet`);
    if (sysinits) parts.push('its VNET_SYSINITs are plain SYSINITs: they run once at load, never for new vnets, and are never torn down per vnet');
    if (/\bCURVNET_SET/.test(text)) parts.push('its CURVNET_SET/RESTORE are empty, so its callouts and tasks call VNET-aware kernel code with curvnet NULL');
    silent = `a module built without VIMAGE loads on a VIMAGE kernel, silently wrong: ${parts.join('; ')}`;
  }
  return { file, items, onNonVimageKernel, onVimageKernel, silent };
}

function vnetNamesFromText(text: string): Map<string, { variable: string }> {
  const fake = { text, _vnetNames: undefined } as unknown as FileModel;
  return vnetNames(fake);
}

export function formatAbiText(reports: AbiReport[]): string {
  let out = '';
  for (const r of reports) {
    if (!r.items.length) continue;
    out += `${r.file}: VNET ABI, built with VIMAGE vs without\n`;
    out += '  symbols that differ:\n';
    for (const it of r.items) {
      if (it.defines) out += `    line ${it.line}: ${it.construct}: defines ${it.defines.vimage} in ${it.defines.section} (VIMAGE) / ${it.defines.novimage} in .data or .bss (no VIMAGE)\n`;
      else out += `    line ${it.line}: ${it.construct}: ${it.vimage.join(', ') || 'nothing'} (VIMAGE) / ${it.novimage.join(', ') || 'nothing'} (no VIMAGE)\n`;
    }
    out += '  built with VIMAGE, kldload on a kernel without VIMAGE:\n';
    if (r.onNonVimageKernel.length) for (const e of r.onNonVimageKernel) out += `    ${e.message}    (line ${e.line}: ${e.construct})\n`;
    else out += '    loads (no VIMAGE-only symbol referenced); set_vnet is not relocated there, so the first V_ access faults\n';
    out += '  built without VIMAGE, kldload on a VIMAGE kernel:\n';
    if (r.onVimageKernel.length) for (const e of r.onVimageKernel) out += `    ${e.message}    (line ${e.line}: ${e.construct})\n`;
    else out += `    ${r.silent}\n`;
    if (r.onNonVimageKernel.length || r.onVimageKernel.length) out += '  (kldload stops at the first undefined symbol it relocates; each line above is one it can stop at)\n';
  }
  return out;
}

export function formatAbiJson(reports: AbiReport[]): string {
  return JSON.stringify({ version: 1, modules: reports.filter((r) => r.items.length) }, null, 2) + '\n';
}

/** Hover text for a VNET name under the cursor: both expansions and what a mismatch prints. */
export function vnetHover(m: FileModel, name: string): string | null {
  const v = vnetNames(m).get(name);
  const r = vnetAbiReport(m.text, m.file, m);
  if (v) {
    const own = r.items.some((i) => i.defines && i.defines.novimage === v.variable);
    const lines = [`**${name}** = \`VNET(${v.variable})\``, '', `- with VIMAGE: \`(*(__typeof(${vnetSymbol(v.variable, true)})*)(curvnet->vnet_data_base + (uintptr_t)&${vnetSymbol(v.variable, true)}))\` (curvnet must be set)`, `- without VIMAGE: \`${v.variable}\` (a plain global)`];
    if (!own) lines.push('', `A module built without VIMAGE on a VIMAGE kernel: \`${msg(v.variable)}\`; built with VIMAGE on a kernel without it: \`${msg(vnetSymbol(v.variable, true))}\`.`);
    else lines.push('', `Defined in this module: \`${vnetSymbol(v.variable, true)}\` in ${VNET_SETNAME} with VIMAGE, \`${v.variable}\` without (one instance for every vnet).`);
    return lines.join('\n');
  }
  const f = FIXED.get(name);
  if (f) return [`**${name}**`, '', `- with VIMAGE: references ${f.vimage.map((s) => `\`${s}\``).join(', ')} (${f.why})`, `- without VIMAGE: ${name === 'VNET_SYSINIT' || name === 'VNET_SYSUNINIT' ? `a plain ${name.slice(5)} (runs once, in no particular vnet)` : 'no symbol'}`, '', `Built with VIMAGE, loaded on a kernel without it: ${f.vimage.map((s) => `\`${msg(s)}\``).join(', ')}.`].join('\n');
  if (name === 'CURVNET_SET' || name === 'CURVNET_SET_QUIET' || name === 'CURVNET_RESTORE') {
    return name === 'CURVNET_RESTORE'
      ? '**CURVNET_RESTORE()**\n\n- with VIMAGE: `VNET_ASSERT(curvnet != NULL && ...); curvnet = saved_vnet;` (uses the saved_vnet its SET declared)\n- without VIMAGE: nothing'
      : `**${name}(arg)**\n\n- with VIMAGE: \`VNET_ASSERT(arg != NULL && arg->vnet_magic_n == VNET_MAGIC_N, ...); struct vnet *saved_vnet = curvnet; curvnet = arg;\`\n- without VIMAGE: nothing\n\nOne per block; its CURVNET_RESTORE() in the same block on every path.`;
  }
  return null;
}
