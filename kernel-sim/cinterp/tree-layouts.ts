/**
 * With a kernel tree: the machine takes the tree's layouts of the structures it models
 * (gate/layouts.ts binds them). Each struct comes from the driver's own translation units when
 * they define it; the others from the tree's header that defines it (MODELLED), read once for
 * its types only.
 */
import type { Parser } from '../../core/cparser';
import { ScenarioError, type Scenario } from '../scenario';
import type { Machine } from '../machine/machine';
import { MODELLED } from '../machine/layout';
import { bindTreeLayouts, type TreeStruct } from '../gate/layouts';
import { structOrigins } from './declare';
import { Compiler } from './compile';
import type { Preprocessor } from './preprocess';
import { preprocessOnce, generatedText, diskCacheOn, loadNeeds, storeNeeds } from './disk-cache';
import { plainTree } from './ctree';
import { neededOf, neededCode, parseNeeded, skipped, neededTree, keepNeededTree } from './needed';

function finder(c: Compiler): (names: string[]) => TreeStruct | undefined {
  return (names) => {
    for (const name of names) {
      const t = c.typeNames.get(name);
      if (!t || t.k !== 'struct' || !t.complete) continue;
      const at = structOrigins.get(t);
      if (at) return { type: t, name, ...at };
    }
    return undefined;
  };
}

/** Binds the tree's layouts into the machine (before boot); returns the errors (then nothing is bound). */
export function bindTreeLayoutsOf(m: Machine, s: Scenario, c: Compiler, parser: () => Parser, newPreprocessor: () => Preprocessor, module: string, optionsKey: string | null): ScenarioError[] {
  const inDriver = finder(c);
  const need = MODELLED.filter((x) => (x.key !== 'ctxopTemplate' || m.era.hasTemplates) && !inDriver(x.names));
  let inHeaders: ((names: string[]) => TreeStruct | undefined) | null = null;
  if (need.length) {
    const pre = newPreprocessor();
    const headers = ['sys/types.h', ...new Set(need.map((x) => x.header))];
    // Kept on disk as a driver's units are (disk-cache.ts): the same headers give the same output.
    const key = optionsKey === null ? null : JSON.stringify(['layouts', headers, optionsKey]);
    const { pp, main, id } = preprocessOnce(key, pre, generatedText(pre, s.builtFor), () => {
      let first = -1;
      for (const h of headers) {
        const idx = pre.addText(`<kctx: layouts from ${h}>`, `#include <${h}>\n`);
        if (first < 0) first = idx;
        try {
          pre.processFile(idx);
        } catch (e) {
          // A header the tree does not have: the struct it should define is reported missing below.
          if (!(e instanceof ScenarioError)) throw e;
        }
      }
      return first;
    });
    // Only the constructs the structs need are parsed and declared (needed.ts), found from the
    // whole text the first time and kept beside the unit.
    const needsKey = `layouts ${neededCode()} ${need.map((x) => x.names.join('/')).join(' ')}`;
    let needs = id && diskCacheOn() ? loadNeeds(id, needsKey) : null;
    // Their syntax tree kept by an earlier process, else parsed (only them when known).
    let root = needs ? neededTree(id!, needsKey, pp.text, needs) : null;
    if (!root && needs) {
      const tree = parseNeeded(parser(), pp.text, needs);
      if (tree) {
        root = plainTree(tree, pp.text);
        keepNeededTree(id!, needsKey, root, needs, false);
      }
    }
    if (!root) {
      const tree = parser().parse(pp.text);
      needs = tree && diskCacheOn() ? neededOf(tree, pp.text, null, need.flatMap((x) => x.names)) : null;
      if (tree) root = plainTree(tree, pp.text);
      if (needs && id && root) {
        storeNeeds(id, needsKey, needs);
        keepNeededTree(id, needsKey, root, needs, true);
      }
    }
    if (root) {
      const probe = new Compiler(m, module, new Map());
      const skip = needs ? skipped(needs) : null;
      probe.declareTypes({ pp, root, main }, (n, f) => {
        if (skip?.has(n.startIndex)) return;
        try {
          f();
        } catch (e) {
          if (!(e instanceof ScenarioError)) throw e;
        }
      });
      inHeaders = finder(probe);
    }
  }
  const errors: ScenarioError[] = [];
  const L = bindTreeLayouts(
    m.era.ring,
    m.era.hasTemplates,
    (names) => inDriver(names) ?? inHeaders?.(names),
    (what, header) => new ScenarioError(s.file, 1, 1, `the kernel tree ${s.gate} declares no '${what}' (kctx looked in <${header}>): with "gate", kctx's kernel lays '${what}' out as the tree does`),
    errors,
  );
  if (!errors.length) m.bindLayouts(L);
  return errors;
}
