import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ValidationError } from '#core';
import { parseBytes } from './bytes.js';
import type { HostCapacity } from './host.js';
import { parseQuota } from './quota.js';

const host: HostCapacity = { cpus: [0, 1], memoryBytes: 24n * 1024n ** 3n };
const GiB = 1024n ** 3n;

describe('parseBytes', () => {
  const good: Array<[string, bigint]> = [
    ['1048576', 1048576n],
    ['512MiB', 512n * 1024n ** 2n],
    ['2GB', 2_000_000_000n],
    ['1.5GiB', (3n * GiB) / 2n],
    ['10kB', 10_000n],
    ['7EiB', 7n * 1024n ** 6n],
  ];
  for (const [text, bytes] of good) it(`reads ${text}`, () => assert.equal(parseBytes('f', text), bytes));
});

describe('parseQuota', () => {
  it('parses every key into its typed form', () => {
    const q = parseQuota(
      {
        'limits.cpu': '0-1',
        'limits.cpu.allowance': '25ms/100ms',
        'limits.cpu.priority': '3',
        'limits.memory': '2GiB',
        'limits.memory.enforce': 'soft',
        'limits.memory.swap': 'false',
        'limits.processes': '50',
        'limits.disk.priority': '7',
        'user.other': 'ignored',
      },
      host,
    );
    assert.deepEqual(q, {
      cpu: { kind: 'set', cpus: [0, 1] },
      cpuAllowance: { kind: 'quota', quotaUs: 25000, periodUs: 100000 },
      cpuPriority: 3,
      memoryBytes: 2n * GiB,
      memoryEnforce: 'soft',
      swap: { kind: 'off' },
      processes: 50,
      diskPriority: 7,
    });
  });

  it('reads counts, shares, percentages of host memory and swap sizes', () => {
    assert.deepEqual(parseQuota({ 'limits.cpu': '1', 'limits.cpu.allowance': '50%', 'limits.memory': '25%', 'limits.memory.swap': '1GiB' }, host), {
      cpu: { kind: 'count', count: 1 },
      cpuAllowance: { kind: 'share', percent: 50 },
      memoryBytes: 6n * GiB,
      memoryPercent: 25,
      swap: { kind: 'bytes', bytes: GiB },
    });
  });

  const bad: Array<[string, string, RegExp]> = [
    ['limits.memory', '-1', /is not a byte size/],
    ['limits.memory', '0', /must be at least 1MiB/],
    ['limits.memory', '10XB', /unknown unit "XB"/],
    ['limits.memory', '0valueOf', /unknown unit "valueOf"/],
    ['limits.memory', '1hasOwnProperty', /unknown unit "hasOwnProperty"/],
    ['limits.memory', '1toString', /unknown unit "toString"/],
    ['limits.memory', '1.5.5GB', /is not a byte size/],
    ['limits.memory', '99999999999EB', /is too large/],
    ['limits.memory', '0%', /from 1% to 100%/],
    ['limits.memory', '-5%', /from 1% to 100%/],
    ['limits.memory', '150%', /from 1% to 100%/],
    ['limits.memory', '1000kB', /must be at least 1MiB/],
    ['limits.cpu', '-1', /neither a CPU count nor a CPU set/],
    ['limits.cpu', '0', /at least 1 CPU/],
    ['limits.cpu', '3-1', /range "3-1" is reversed/],
    ['limits.cpu', 'a', /neither a CPU count nor a CPU set/],
    ['limits.cpu', '3', /asks for 3 CPUs but the host has 2/],
    ['limits.cpu', '0,5', /CPU 5 does not exist on this host/],
    ['limits.cpu.allowance', '120%', /from 1 to 100/],
    ['limits.cpu.allowance', '200ms/100ms', /must not exceed the period/],
    ['limits.cpu.allowance', 'half', /neither a percentage/],
    ['limits.processes', '-1', /is not a whole number/],
    ['limits.processes', 'abc', /is not a whole number/],
    ['limits.processes', '0', /from 1 to/],
    ['limits.cpu.priority', '11', /from 0 to 10/],
    ['limits.disk.priority', '-1', /is not a whole number/],
    ['limits.memory.enforce', 'strict', /must be hard or soft/],
    ['limits.memory.swap', 'maybe', /unknown unit|is not a byte size/],
  ];
  for (const [key, value, message] of bad) {
    it(`refuses ${key}=${value}, naming the key`, () => {
      assert.throws(
        () => parseQuota({ [key]: value }, host),
        (e: unknown) => e instanceof ValidationError && e.field === `config["${key}"]` && message.test(e.message),
      );
    });
  }

  it('fuzz: never throws anything but a ValidationError, and what it accepts is in range', () => {
    const keys = ['limits.cpu', 'limits.cpu.allowance', 'limits.cpu.priority', 'limits.memory', 'limits.memory.enforce', 'limits.memory.swap', 'limits.processes', 'limits.disk.priority'];
    const value = fc.oneof(fc.string(), fc.stringMatching(/^-?\d{0,25}(\.\d{0,3})?(%|[kKMGTPE]i?B|B|ms\/\d+ms|ms)?$/), fc.constantFrom('1', '0-1', '50%', '2GiB', 'true', 'hard'));
    fc.assert(
      fc.property(fc.constantFrom(...keys), value, (key, text) => {
        try {
          const q = parseQuota({ [key]: text }, host);
          if (q.memoryBytes !== undefined) assert.ok(q.memoryBytes >= 1024n * 1024n && q.memoryBytes < 2n ** 63n);
          if (q.cpu?.kind === 'count') assert.ok(q.cpu.count >= 1 && q.cpu.count <= 2);
          if (q.cpu?.kind === 'set') assert.ok(q.cpu.cpus.every((c) => host.cpus.includes(c)));
          if (q.cpuAllowance?.kind === 'quota') assert.ok(q.cpuAllowance.quotaUs <= q.cpuAllowance.periodUs);
          if (q.cpuAllowance?.kind === 'share') assert.ok(q.cpuAllowance.percent >= 1 && q.cpuAllowance.percent <= 100);
          if (q.processes !== undefined) assert.ok(q.processes >= 1);
          for (const p of [q.cpuPriority, q.diskPriority]) if (p !== undefined) assert.ok(p >= 0 && p <= 10);
        } catch (e) {
          if (!(e instanceof ValidationError)) throw e;
        }
      }),
      { numRuns: 5000 },
    );
  });
});
