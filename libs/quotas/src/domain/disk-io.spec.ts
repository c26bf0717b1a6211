import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ValidationError } from '#core';
import { cgroupV1Writes, cgroupV2Writes, hasDiskIoLimits } from './cgroup-settings.js';
import { parseDiskIo, parseIoRate } from './disk-io.js';
import { parseQuota } from './quota.js';

const host = { cpus: [0, 1], memoryBytes: 8n * 1024n ** 3n };
const root = (keys: Record<string, string>) => ({ root: { type: 'disk', path: '/', pool: 'default', ...keys } });

describe('disk I/O limits', () => {
  it("reads the root disk's limits.read and limits.write as bytes/s or iops", () => {
    assert.deepEqual(parseDiskIo(root({ 'limits.read': '10MB', 'limits.write': '100iops' })), {
      read: { kind: 'bytes', perSecond: 10_000_000n },
      write: { kind: 'iops', perSecond: 100 },
    });
    assert.deepEqual(parseIoRate('f', '1.5MiB'), { kind: 'bytes', perSecond: 1_572_864n });
    assert.deepEqual(parseIoRate('f', '250'), { kind: 'bytes', perSecond: 250n });
  });

  it('limits.max sets both directions; a direction of its own wins', () => {
    assert.deepEqual(parseDiskIo(root({ 'limits.max': '5MB', 'limits.write': '20iops' })), {
      read: { kind: 'bytes', perSecond: 5_000_000n },
      write: { kind: 'iops', perSecond: 20 },
    });
  });

  it('checks the keys of every disk but keeps only the root disk’s', () => {
    const devices = { ...root({}), data: { type: 'disk', path: '/srv', source: '/tmp', 'limits.read': '1MB' }, eth0: { type: 'nic', 'limits.max': 'junk' } };
    assert.deepEqual(parseDiskIo(devices), {});
    assert.throws(() => parseDiskIo({ ...devices, data: { ...devices.data, 'limits.read': '1XB' } }), { field: 'devices["data"]["limits.read"]' });
  });

  for (const [key, text, message] of [
    ['limits.read', '-1', /is not a byte size/],
    ['limits.write', '10XB', /unknown unit "XB"/],
    ['limits.write', 'abciops', /not a count of operations per second/],
    ['limits.read', '0', /at least 1 byte\/s/],
    ['limits.read', '0iops', /from 1 to/],
    ['limits.max', '99999999999EB', /too large/],
  ] as const) {
    it(`refuses ${key}=${text}, naming the device and key`, () => {
      assert.throws(
        () => parseQuota({}, host, root({ [key]: text })),
        (e: unknown) => e instanceof ValidationError && e.field === `devices["root"]["${key}"]` && message.test(e.message),
      );
    });
  }

  it('parseQuota keeps them beside the config keys, and only when given the devices', () => {
    const devices = root({ 'limits.write': '5MB' });
    assert.deepEqual(parseQuota({ 'limits.processes': '10' }, host, devices), { processes: 10, diskWrite: { kind: 'bytes', perSecond: 5_000_000n } });
    assert.deepEqual(parseQuota({ 'limits.processes': '10' }, host), { processes: 10 });
  });

  it('v1: one throttle rule per file on the device, 0 for the kind not set; none without a device', () => {
    const q = { diskRead: { kind: 'iops', perSecond: 100 }, diskWrite: { kind: 'bytes', perSecond: 5_000_000n } } as const;
    assert.deepEqual(cgroupV1Writes(q, undefined, true, { device: '7:3' }).map((w) => `${w.controller}/${w.file}=${w.value}`), [
      'blkio/blkio.throttle.read_bps_device=7:3 0',
      'blkio/blkio.throttle.read_iops_device=7:3 100',
      'blkio/blkio.throttle.write_bps_device=7:3 5000000',
      'blkio/blkio.throttle.write_iops_device=7:3 0',
    ]);
    assert.deepEqual(cgroupV1Writes(q, undefined, true), []);
    assert.equal(hasDiskIoLimits(q), true);
  });

  it('v1: reset lifts every rule when no limit is left; the weight goes to the host’s weight file', () => {
    assert.deepEqual(cgroupV1Writes({}, undefined, true, { device: '7:3', reset: true }).map((w) => w.value), ['7:3 0', '7:3 0', '7:3 0', '7:3 0']);
    assert.deepEqual(cgroupV1Writes({}, undefined, true, { device: '7:3' }), []);
    assert.deepEqual(cgroupV1Writes({ diskPriority: 3 }, undefined, true, { weightFile: 'blkio.bfq.weight' }), [{ controller: 'blkio', file: 'blkio.bfq.weight', value: '300' }]);
  });

  it('v2: one io.max line with max for what is not limited', () => {
    assert.deepEqual(cgroupV2Writes({ diskWrite: { kind: 'bytes', perSecond: 5_000_000n } }, undefined, { device: '253:0' }), [
      { controller: 'io', file: 'io.max', value: '253:0 rbps=max wbps=5000000 riops=max wiops=max' },
    ]);
    assert.deepEqual(cgroupV2Writes({}, undefined, { device: '253:0', reset: true })[0].value, '253:0 rbps=max wbps=max riops=max wiops=max');
  });

  it('fuzz: never throws anything but a ValidationError, and what it accepts is a positive rate', () => {
    const value = fc.oneof(fc.string(), fc.stringMatching(/^-?\d{0,22}(\.\d{0,3})?\s?(iops|[kKMGTPE]i?B|B|XB)?$/), fc.constantFrom('10MB', '100iops', '0', 'iops'));
    fc.assert(
      fc.property(fc.constantFrom('limits.read', 'limits.write', 'limits.max'), value, (key, text) => {
        try {
          const io = parseDiskIo(root({ [key]: text }));
          for (const r of [io.read, io.write]) if (r) assert.ok(r.kind === 'iops' ? r.perSecond >= 1 && r.perSecond < 2 ** 31 : r.perSecond >= 1n && r.perSecond < 2n ** 63n);
        } catch (e) {
          if (!(e instanceof ValidationError)) throw e;
        }
      }),
      { numRuns: 3000 },
    );
  });
});
