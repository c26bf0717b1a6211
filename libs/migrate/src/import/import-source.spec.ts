import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ValidationError } from '#core';
import { isImportSource, parseImportSource } from './import-source.js';

const field = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ValidationError);
    return err.field;
  }
  assert.fail('accepted');
};

describe('parseImportSource', () => {
  it('takes a path, an optional format and dry_run', () => {
    assert.deepEqual(parseImportSource({ type: 'migration', mode: 'import', path: '/srv/vm.tar.gz' }), { path: '/srv/vm.tar.gz', kind: undefined, dryRun: false });
    assert.deepEqual(parseImportSource({ type: 'migration', mode: 'import', path: '/dev/x', format: 'raw', dry_run: true }), { path: '/dev/x', kind: 'raw', dryRun: true });
  });

  it('names the field it refuses', () => {
    assert.equal(field(() => parseImportSource({ type: 'migration', mode: 'pull', path: '/a' })), 'source.mode');
    assert.equal(field(() => parseImportSource({ type: 'migration', mode: 'import' })), 'source.path');
    assert.equal(field(() => parseImportSource({ type: 'migration', mode: 'import', path: 'vm.tar' })), 'source.path');
    assert.equal(field(() => parseImportSource({ type: 'migration', mode: 'import', path: '/a', format: 'vmdk' })), 'source.format');
    assert.equal(field(() => parseImportSource({ type: 'migration', mode: 'import', path: '/a', dry_run: 'yes' })), 'source.dry_run');
    assert.equal(field(() => parseImportSource({ type: 'migration', mode: 'import', path: '/a', secrets: {} })), 'source.secrets');
    assert.equal(field(() => parseImportSource([])), 'source');
  });

  it('recognises import bodies', () => {
    assert.equal(isImportSource({ type: 'migration' }), true);
    assert.equal(isImportSource({ type: 'image', alias: 'x' }), false);
    assert.equal(isImportSource(undefined), false);
  });
});
