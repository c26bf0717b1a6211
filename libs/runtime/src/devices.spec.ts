import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { deviceArgument } from './devices.js';
import { InvalidContainerSpecError } from './errors.js';

describe('deviceArgument (berth-monitor --device)', () => {
  it('is one flat JSON object, options comma-joined, absent keys left out', () => {
    assert.deepEqual(JSON.parse(deviceArgument({ name: 'd', kind: 'disk', source: '/srv', path: '/mnt', readonly: true, options: ['nosuid', 'noexec'] })), {
      name: 'd',
      kind: 'disk',
      source: '/srv',
      path: '/mnt',
      readonly: true,
      options: 'nosuid,noexec',
    });
    assert.deepEqual(JSON.parse(deviceArgument({ name: 'k', kind: 'unix-char', path: '/dev/k', major: 1, minor: 11, mode: 0o600 })), {
      name: 'k',
      kind: 'unix-char',
      path: '/dev/k',
      major: 1,
      minor: 11,
      mode: 0o600,
    });
  });

  it('refuses what the monitor would refuse, naming the field', () => {
    const refused = (device: Parameters<typeof deviceArgument>[0], field: string) =>
      assert.throws(() => deviceArgument(device), (err: unknown) => err instanceof InvalidContainerSpecError && err.message.startsWith(field));
    refused({ name: 'd', kind: 'disk', source: 'srv', path: '/mnt' }, 'devices[d].source');
    refused({ name: 'd', kind: 'disk', source: '/srv', path: '/mnt/../etc' }, 'devices[d].path');
    refused({ name: 'd', kind: 'disk', source: '/srv' }, 'devices[d]');
    refused({ name: 'd', kind: 'disk', source: '/srv', path: '/mnt', options: ['size=1m'] }, 'devices[d].options');
    refused({ name: 'd', kind: 'disk', source: '/srv', path: '/mnt', propagation: 'rslave' }, 'devices[d].propagation');
    refused({ name: 'k', kind: 'unix-char', path: '/dev/k', major: 1 }, 'devices[k]');
    refused({ name: 'k', kind: 'unix-char', path: '/dev/k', major: 1, minor: 2 ** 21 }, 'devices[k].minor');
    refused({ name: '../x', kind: 'disk', source: '/srv', path: '/mnt' }, 'devices');
  });
});
