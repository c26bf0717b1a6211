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

  it('takes a running machine over SSH', () => {
    assert.deepEqual(parseImportSource({ type: 'migration', mode: 'import', ssh: 'root@10.0.0.5' }), {
      kind: 'ssh',
      path: '/',
      ssh: { user: 'root', host: '10.0.0.5', port: 22, path: '/', identity: undefined },
      dryRun: false,
    });
    const v6 = parseImportSource({ type: 'migration', mode: 'import', ssh: 'admin@[fd00::5]', ssh_port: 2222, ssh_identity: '/root/.ssh/vm', path: '/srv' });
    assert.deepEqual(v6.ssh, { user: 'admin', host: 'fd00::5', port: 2222, path: '/srv', identity: '/root/.ssh/vm' });
    assert.equal(field(() => parseImportSource({ type: 'migration', mode: 'import', ssh: 'vm1' })), 'source.ssh');
    assert.equal(field(() => parseImportSource({ type: 'migration', mode: 'import', ssh: 'root@vm 1' })), 'source.ssh');
    assert.equal(field(() => parseImportSource({ type: 'migration', mode: 'import', ssh: 'root@vm1', ssh_port: 0 })), 'source.ssh_port');
    assert.equal(field(() => parseImportSource({ type: 'migration', mode: 'import', ssh: 'root@vm1', format: 'raw' })), 'source.format');
    assert.equal(field(() => parseImportSource({ type: 'migration', mode: 'import', path: '/a', ssh_port: 22 })), 'source.ssh_port');
  });

  it('recognises import bodies', () => {
    assert.equal(isImportSource({ type: 'migration' }), true);
    assert.equal(isImportSource({ type: 'image', alias: 'x' }), false);
    assert.equal(isImportSource(undefined), false);
  });
});
