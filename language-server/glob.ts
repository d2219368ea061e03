/** Glob patterns for `kctx.lint.exclude`: `**` any path, `*` within a segment, `?`, `{a,b}`. */
const cache = new Map<string, RegExp>();

export function globToRegExp(glob: string): RegExp {
  let re = cache.get(glob);
  if (re) return re;
  let s = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*') {
      if (glob[i + 1] === '*') {
        i++;
        if (glob[i + 1] === '/') { i++; s += '(?:.*/)?'; } else s += '.*';
      } else s += '[^/]*';
    } else if (c === '?') s += '[^/]';
    else if (c === '{') {
      const end = glob.indexOf('}', i);
      if (end < 0) { s += '\\{'; continue; }
      s += '(?:' + glob.slice(i + 1, end).split(',').map((x) => x.replace(/[.+^$()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*')).join('|') + ')';
      i = end;
    } else s += /[.+^$()|[\]\\]/.test(c) ? '\\' + c : c;
  }
  // A pattern without a slash matches a name at any depth, as in .gitignore.
  re = new RegExp(glob.includes('/') ? `^(?:.*/)?${s}$` : `(?:^|/)${s}$`);
  cache.set(glob, re);
  return re;
}
