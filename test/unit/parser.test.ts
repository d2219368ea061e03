import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createCParser } from '../../core/cparser';

test('tree-sitter-c parses a designated ctxop_template initializer', async () => {
  const p = await createCParser();
  const tree = p.parse('static const struct ctxop_template t = { .ct_rev = CTXOP_TPL_REV };')!;
  const init = tree.rootNode.descendantsOfType('initializer_pair')[0]!;
  assert.equal(init.childForFieldName('designator')?.text ?? init.child(0)!.text, '.ct_rev');
  assert.equal(tree.rootNode.hasError, false);
});
