import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parsePushHeaders } from './file-headers.js';

describe('X-LXD-* headers of a file push', () => {
  it('parses LXD headers', () => {
    assert.deepEqual(parsePushHeaders({ 'x-lxd-uid': '0', 'x-lxd-gid': '-1', 'x-lxd-mode': '0644', 'x-lxd-type': 'file', 'x-lxd-write': 'append' }), {
      type: 'file', uid: 0, gid: undefined, mode: 0o644, append: true,
    });
    assert.throws(() => parsePushHeaders({ 'x-lxd-type': 'fifo' }), /X-LXD-type/);
    assert.throws(() => parsePushHeaders({ 'x-lxd-mode': '999' }), /X-LXD-mode/);
    assert.throws(() => parsePushHeaders({ 'x-lxd-uid': '70000' }), /X-LXD-uid/);
  });
});
