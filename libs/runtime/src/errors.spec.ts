import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DomainError } from '#core';
import { CgroupLimitError, ContainerNotRunningError, NativeCallError, nativeError } from './errors.js';

describe('runtime errors', () => {
  it('are domain errors with a stable code and the fields of the failure', () => {
    const failure = nativeError({ ok: false, syscall: 'pivot_root', errno: 22, code: 'EINVAL', message: 'pivot_root(2) failed: EINVAL' });
    assert.ok(failure instanceof DomainError);
    assert.deepEqual([failure.code, failure.name, failure.syscall, failure.errno, failure.errnoCode], ['RUNTIME.SYSCALL_FAILED', 'NativeCallError', 'pivot_root', 22, 'EINVAL']);
    assert.equal(failure.message, 'pivot_root(2) failed: EINVAL');
    assert.deepEqual(failure.details, { syscall: 'pivot_root', errno: 22, code: 'EINVAL' });

    const refused = new CgroupLimitError('web', 'memory', 'memory.max', '1', 16, 'EBUSY');
    assert.ok(refused instanceof DomainError);
    assert.deepEqual(refused.details, { container: 'web', controller: 'memory', file: 'memory.max', value: '1', errno: 16, code: 'EBUSY' });
    assert.ok(new ContainerNotRunningError('web') instanceof DomainError);
  });

  it('name the system call and errno in the message even when the caller did not', () => {
    assert.equal(new NativeCallError('the monitor closed /run/m.sock', 'read', 104, 'ECONNRESET').message, 'the monitor closed /run/m.sock: read(2) failed: ECONNRESET');
    assert.equal(new NativeCallError('connect(2) failed: ENOENT (/run/m.sock)', 'connect', 2, 'ENOENT').message, 'connect(2) failed: ENOENT (/run/m.sock)');
  });
});
