// The runtime's devices on the cgroup2 layout (a pure v2 host): a unix-char device at start and
// added or removed while the container runs changes the BPF device program (replaced, never
// stacked), so its node is usable exactly while the device is there.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

import { Sandbox, cgroupMounts, exists } from './helpers.js';

describe('runtime devices under the cgroup v2 device program', () => {
  let sandbox: Sandbox;
  let rootfs: string;

  before(async () => {
    sandbox = await Sandbox.create();
    rootfs = await sandbox.rootfs('dev');
  });

  after(async () => {
    await sandbox.dispose();
  });

  it('allows a unix device\'s node while it is bound, and denies it again once removed', async () => {
    /* Privileged, so that a node made inside (mknod) tests the program alone. */
    const started = await sandbox.runtime.start({
      name: 'dev',
      rootfs,
      idmap: null,
      cgroup2Only: true,
      devices: [{ name: 'kmsg', kind: 'unix-char', path: '/dev/berth-kmsg', major: 1, minor: 11, mode: 0o620 }],
      waitReady: false,
    });
    assert.equal(started.cgroupLayout, 'unified');
    const unified = (await cgroupMounts()).find((m) => exists(path.join(m, 'cgroup.subtree_control')));
    assert.ok(unified && exists(path.join(unified, started.cgroup)));
    const probe = async () =>
      (await sandbox.runtime.exec('dev', ['sh', '-c', 'test -e /root/kmsg || mknod /root/kmsg c 1 11; head -c 0 /root/kmsg 2>&1 && echo allowed; stat -c "%F %t:%T %a" /dev/berth-kmsg 2>&1 | tail -1'])).stdout;
    assert.equal(await probe(), 'allowed\ncharacter special file 1:b 620\n');
    await sandbox.runtime.removeDevice('dev', 'kmsg');
    assert.match(await probe(), /^head: cannot open '\/root\/kmsg' for reading: Operation not permitted\nstat: .*No such file or directory\n$/);
    await sandbox.runtime.addDevice('dev', { name: 'kmsg', kind: 'unix-char', path: '/dev/berth-kmsg', major: 1, minor: 11 });
    assert.equal(await probe(), 'allowed\ncharacter special file 1:b 660\n');
    await sandbox.runtime.stop('dev', { force: true });
  });
});
