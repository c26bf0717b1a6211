import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ValidationError } from '#core';
import { deviceMounts, sameMount } from './device-mounts.js';
import { checkDevices } from './expanded.js';

const refused = (devices: Record<string, Record<string, string>>, field: string, message: RegExp) =>
  assert.throws(
    () => checkDevices(devices),
    (err: unknown) => err instanceof ValidationError && err.message.includes(field) && message.test(err.message),
  );

describe('bound devices (disks with a host source, unix-char, unix-block)', () => {
  it('accepts what LXD accepts for a bind: the bind mount options, private and unbindable propagation, LXD booleans', () => {
    checkDevices({
      root: { type: 'disk', path: '/', pool: 'default' },
      data: { type: 'disk', source: '/srv/data', path: '/srv/data', readonly: 'yes', required: 'false', 'raw.mount.options': 'nosuid,nodev,noexec,relatime', propagation: 'rprivate' },
      tun: { type: 'unix-char', source: '/dev/net/tun' },
      kmsg: { type: 'unix-char', path: '/dev/k', major: '1', minor: '11', uid: '1000', gid: '1000', mode: '0600' },
    });
  });

  it('refuses mount options a bind cannot take, naming the field', () => {
    refused({ d: { type: 'disk', source: '/srv', path: '/srv', 'raw.mount.options': 'nosuid,size=10m' } }, 'devices["d"]["raw.mount.options"]', /"size=10m" is not an option of a bind mount/);
    refused({ d: { type: 'disk', source: '/srv', path: '/srv', 'raw.mount.options': 'bind' } }, 'devices["d"]["raw.mount.options"]', /"bind"/);
  });

  it('refuses shared and slave propagation (host mounts never propagate in)', () => {
    refused({ d: { type: 'disk', source: '/srv', path: '/srv', propagation: 'rslave' } }, 'devices["d"]["propagation"]', /must be one of private, rprivate, unbindable, runbindable/);
    refused({ d: { type: 'disk', source: '/srv', path: '/srv', propagation: 'shared' } }, 'devices["d"]["propagation"]', /do not propagate/);
  });

  it('refuses non-boolean flags, relative or ".." paths, bad numbers and modes', () => {
    refused({ d: { type: 'disk', source: '/srv', path: '/srv', readonly: 'maybe' } }, 'devices["d"]["readonly"]', /must be a boolean/);
    refused({ d: { type: 'disk', source: '/srv', path: '/srv', shift: '2' } }, 'devices["d"]["shift"]', /must be a boolean/);
    refused({ d: { type: 'disk', source: '/srv/../etc', path: '/srv' } }, 'devices["d"]["source"]', /".."/);
    refused({ u: { type: 'unix-char', source: 'dev/fuse' } }, 'devices["u"]["source"]', /absolute/);
    refused({ u: { type: 'unix-char', path: '/dev/x', major: '1', minor: 'x' } }, 'devices["u"]["minor"]', /integer/);
    refused({ u: { type: 'unix-block', path: '/dev/x', major: '5000', minor: '0' } }, 'devices["u"]["major"]', /from 0 to 4095/);
    refused({ u: { type: 'unix-char', source: '/dev/fuse', mode: '0999' } }, 'devices["u"]["mode"]', /octal/);
  });

  it('needs a source, or a path with major and minor, for a unix device', () => {
    refused({ u: { type: 'unix-char', path: '/dev/x', major: '1' } }, 'devices["u"]["source"]', /needs a source, or a path with major and minor/);
    refused({ u: { type: 'unix-block', major: '7', minor: '0' } }, 'devices["u"]["source"]', /unix-block device needs a source/);
  });

  it('turns the expanded devices into the runtime\'s mounts: not the root, not a pool volume, not a nic', () => {
    const mounts = deviceMounts({
      root: { type: 'disk', path: '/', pool: 'default' },
      vol: { type: 'disk', path: '/data', pool: 'default', source: 'vol1' },
      eth0: { type: 'nic', network: 'berthbr0' },
      b: { type: 'disk', source: '/srv', path: '/srv', readonly: 'true', required: 'false', 'raw.mount.options': 'noexec,nodev', propagation: 'private', shift: 'off' },
      a: { type: 'unix-char', path: '/dev/k', major: '1', minor: '11', uid: '1000', mode: '0600' },
    });
    assert.deepEqual(mounts, [
      { name: 'a', kind: 'unix-char', source: undefined, path: '/dev/k', required: undefined, major: 1, minor: 11, uid: 1000, gid: undefined, mode: 0o600 },
      { name: 'b', kind: 'disk', source: '/srv', path: '/srv', required: false, readonly: true, recursive: undefined, shift: false, options: ['noexec', 'nodev'], propagation: 'private' },
    ]);
  });

  it('tells a changed binding from the same one', () => {
    const [one] = deviceMounts({ d: { type: 'disk', source: '/srv', path: '/srv' } });
    const [same] = deviceMounts({ d: { type: 'disk', source: '/srv', path: '/srv' } });
    const [other] = deviceMounts({ d: { type: 'disk', source: '/srv', path: '/srv', readonly: 'true' } });
    assert.equal(sameMount(one!, same!), true);
    assert.equal(sameMount(one!, other!), false);
  });
});
