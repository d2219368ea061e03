/**
 * One layout, the tree's: with a kernel tree (`gate`), the structures the simulator models
 * (kthread_t, struct ctxop, cpu_t, klwp_t, sc_shared_t, struct ctxop_template) take the size,
 * alignment and member offsets of the tree's own headers as the interpreter lays them out (gcc's
 * amd64 layout). The members the simulator reads and writes are bound by name from the tables
 * of machine/layout.ts (the same tables the shipped headers are generated from), at the width
 * the tree declares them; every other member is plain memory the driver owns. kctx's own
 * bookkeeping members (`own`) go after the tree's struct. A modelled member the tree lacks is
 * an error at the tree's definition of the struct.
 */
import { ScenarioError } from '../scenario';
import { alignOf, sizeOf, typeName, type CType, type StructField, type StructType } from '../cinterp/types';
import { MODELLED, shippedLayouts, scalarOf, type FieldSpec, type Layouts, type Scalar, type StructLayout } from '../machine/layout';

/** A complete struct of the tree, with where it is defined. */
export interface TreeStruct {
  type: StructType;
  /** The name C used to find it (`kthread_t`). */
  name: string;
  file: string;
  line: number;
  col: number;
}

function kindOf(t: CType): FieldSpec['kind'] {
  if (t.k === 'int' && t.bitWidth === undefined) return `${t.signed ? 'i' : 'u'}${t.size * 8}` as Scalar;
  if (t.k === 'ptr') return 'ptr';
  return { size: sizeOf(t), align: alignOf(t) };
}

/** A member by name, or through a member path (`t_lwpchan.lc_wchan`). */
function memberAt(st: StructType, path: string): StructField | undefined {
  let off = 0;
  let cur: CType = st;
  let f: StructField | undefined;
  for (const part of path.split('.')) {
    if (cur.k !== 'struct') return undefined;
    f = cur.fields.find((x) => x.name === part);
    if (!f) return undefined;
    off += f.offset;
    cur = f.type;
  }
  return f && { ...f, offset: off };
}

function describe(ts: TreeStruct): string {
  const tag = `${ts.type.union ? 'union' : 'struct'} ${ts.type.tag}`;
  return ts.name === tag ? `'${tag}'` : `'${ts.name}' (${tag})`;
}

/** Binds kctx's table of modelled members (`spec`) to the tree's struct. */
function bindStruct(spec: StructLayout, ts: TreeStruct, errors: ScenarioError[]): { layout: StructLayout; namePtr: number } {
  const st = ts.type;
  let end = st.size;
  let align = st.align;
  let namePtr = -1;
  const fields: StructLayout['fields'] = [];
  const offsets: Record<string, number> = {};
  const own = (f: FieldSpec): number => {
    const k = f.kind;
    const a = typeof k === 'string' ? scalarOf(k).size : k.align;
    const size = scalarOf(k).size * (f.count ?? 1);
    end = Math.ceil(end / a) * a;
    const off = end;
    end += size;
    align = Math.max(align, a);
    return off;
  };
  const err = (msg: string) => errors.push(new ScenarioError(ts.file, ts.line, ts.col, msg));
  for (const f of spec.fields) {
    if (f.own) {
      const offset = own(f);
      fields.push({ ...f, offset });
      offsets[f.name] = offset;
      continue;
    }
    const tf = st.fields.find((x) => x.name === f.name) ?? (f.tree ? memberAt(st, f.tree) : undefined);
    if (!tf) {
      err(`${describe(ts)} has no member '${f.name}', which kctx's kernel keeps in it: a kernel tree must declare it`);
      offsets[f.name] = -1;
      continue;
    }
    const kind = kindOf(tf.type);
    if (f.count !== undefined && tf.type.k === 'ptr') {
      // `char *t_name` in the tree for kctx's `char t_name[32]`: the name's bytes go after the
      // tree's struct and the tree's member points at them.
      const offset = own(f);
      namePtr = tf.offset;
      fields.push({ ...f, offset, own: true });
      offsets[f.name] = offset;
      continue;
    }
    const scalar = typeof f.kind === 'string' && f.count === undefined;
    if (scalar && typeof kind !== 'string') {
      err(`member '${f.name}' of ${describe(ts)} is '${typeName(tf.type)}'${tf.type.k === 'int' ? ' (a bit-field)' : ''}; kctx's kernel reads it as an integer or a pointer`);
      offsets[f.name] = -1;
      continue;
    }
    if (scalar && (f.kind === 'ptr') !== (kind === 'ptr')) {
      err(`member '${f.name}' of ${describe(ts)} is '${typeName(tf.type)}'; kctx's kernel keeps a ${f.kind === 'ptr' ? 'pointer' : 'integer'} there`);
      offsets[f.name] = -1;
      continue;
    }
    const fnArgs = f.fnArgs !== undefined && tf.type.k === 'ptr' && tf.type.to.k === 'func' ? { fnArgs: f.fnArgs } : {};
    fields.push({ name: f.name, ctype: typeName(tf.type).replace(/\s*\(\*\)\(.*\)$/, ''), kind: f.count !== undefined ? f.kind : kind, ...(f.count !== undefined ? { count: f.count } : {}), ...fnArgs, offset: tf.offset });
    offsets[f.name] = tf.offset;
  }
  const size = Math.ceil(end / align) * align;
  return {
    layout: { tag: st.tag, typedef: spec.typedef, size, align, offsets, fields, tree: { file: ts.file, line: ts.line, name: ts.name, size: st.size } },
    namePtr,
  };
}

/**
 * The machine's layouts from a kernel tree. `find` gives the tree's complete struct for one of
 * its C names; `ring` and `templates` are the running kernel's (struct ctxop with prev and
 * timestamps from 12477; struct ctxop_template from 13917). Errors are added to `errors`.
 */
export function bindTreeLayouts(
  ring: boolean,
  templates: boolean,
  find: (names: string[]) => TreeStruct | undefined,
  missing: (what: string, header: string) => ScenarioError,
  errors: ScenarioError[],
): Layouts {
  const L: Layouts = { ...shippedLayouts(ring), tree: true };
  for (const s of MODELLED) {
    if (s.key === 'ctxopTemplate' && !templates) continue;
    const ts = find(s.names);
    if (!ts) {
      if (!s.optional) errors.push(missing(s.names[0]!, s.header));
      continue;
    }
    const b = bindStruct(L[s.key], ts, errors);
    L[s.key] = b.layout;
    if (s.key === 'kthread') L.tNamePtr = b.namePtr;
  }
  return L;
}
