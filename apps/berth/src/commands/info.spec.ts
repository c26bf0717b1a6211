import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Instance, ServerInfo } from '../api.js';
import { parseFailedUnits, renderInstanceInfo, renderResources, renderServerSummary, type InstanceStateDetails } from './info.js';

const info: ServerInfo = {
  api_extensions: ['a', 'b'],
  api_status: 'stable',
  api_version: '1.0',
  auth: 'trusted',
  public: false,
  auth_methods: ['unix'],
  environment: {
    server: 'berth',
    server_name: 'host1',
    server_version: '0.1.0',
    server_pid: 42,
    kernel: 'Linux',
    kernel_version: '6.1.0-18-amd64',
    kernel_architecture: 'x86_64',
    architectures: ['x86_64', 'i686'],
    os_name: 'Debian GNU/Linux',
    os_version: '12',
    storage: '',
    storage_version: '',
    driver: '',
    driver_version: '',
    firewall: 'nftables',
    database: { type: 'postgres', embedded: true, version: '17.2' },
  },
  config: {},
};

describe('renderServerSummary', () => {
  it('prints one aligned line per reported fact and leaves out empty ones', () => {
    assert.equal(
      renderServerSummary(info),
      [
        'Server:         berth 0.1.0 (pid 42)',
        'Server name:    host1',
        'API:            1.0 (stable)',
        'Auth:           trusted via unix',
        'Kernel:         Linux 6.1.0-18-amd64 (x86_64)',
        'Architectures:  x86_64, i686',
        'OS:             Debian GNU/Linux 12',
        'Firewall:       nftables',
        'Database:       postgres 17.2 (embedded)',
        'API extensions: 2',
      ].join('\n'),
    );
  });

  it('says when the database is an external server', () => {
    const external = {
      ...info,
      environment: { ...info.environment, database: { type: 'postgres', embedded: false, version: '16.4' } },
    };
    assert.match(renderServerSummary(external), /^Database: +postgres 16\.4 \(external\)$/m);
  });

  it('copes with a server that reports no environment', () => {
    assert.equal(
      renderServerSummary({ api_extensions: [], api_status: 'stable', api_version: '1.0', auth: 'trusted', public: false }),
      ['API:            1.0 (stable)', 'Auth:           trusted', 'API extensions: 0'].join('\n'),
    );
  });
});

const instance: Instance = {
  name: 'lim',
  description: '',
  status: 'Ready',
  status_code: 103,
  type: 'container',
  architecture: 'x86_64',
  ephemeral: false,
  stateful: false,
  profiles: ['default'],
  config: {},
  devices: {},
  expanded_config: {},
  expanded_devices: {},
  created_at: '2024-05-01T10:00:00Z',
  last_used_at: '2024-05-01T10:05:00Z',
};

describe('renderInstanceInfo', () => {
  it("shows a running instance's limits, lxcfs, usage and addresses", () => {
    const state: InstanceStateDetails = {
      status: 'Ready',
      status_code: 103,
      pid: 4242,
      processes: 12,
      network: {
        eth0: { type: 'broadcast', state: 'up', host_name: 'bth0123456789ab', hwaddr: '00:16:3e:12:34:56', addresses: [{ family: 'inet', address: '10.0.3.5', netmask: '24', scope: 'global' }] },
      },
      memory: { usage: 41943040, usage_peak: 134217728, swap_usage: 0 },
      cpu: { usage: 3_600_000_000 },
      io: { read_bytes: 4096, written_bytes: 1048576 },
      oom_kills: 1,
      limits: { memory: 134217728, memory_soft: null, swap: 0, cpus: '0', cpu_allowance: { quota_us: 25000, period_us: 100000 }, cpu_weight: 1024, processes: 50 },
      ready_ms: 2345,
      lxcfs: false,
    };
    assert.equal(
      renderInstanceInfo(instance, state),
      [
        'Name: lim',
        'Status: READY',
        'Type: container',
        'Architecture: x86_64',
        'PID: 4242',
        'Created: 2024/05/01 10:00 UTC',
        'Last Used: 2024/05/01 10:05 UTC',
        'Ready: 2.35s after start',
        'lxcfs: inactive',
        '',
        'Limits:',
        '  Memory: 128.00MiB (hard)',
        '  Swap: none',
        '  CPUs: 0',
        '  CPU allowance: 25ms/100ms',
        '  CPU weight: 1024',
        '  Processes: 50',
        '',
        'Resources:',
        '  Processes: 12',
        '  CPU usage:',
        '    CPU usage (in seconds): 3',
        '  Memory usage:',
        '    Memory (current): 40.00MiB',
        '    Memory (peak): 128.00MiB',
        '  OOM kills: 1',
        '  Disk I/O:',
        '    Read: 4.00KiB',
        '    Written: 1.00MiB',
        '  Network usage:',
        '    eth0:',
        '      Type: broadcast',
        '      State: UP',
        '      Host interface: bth0123456789ab',
        '      MAC address: 00:16:3e:12:34:56',
        '      IP address: 10.0.3.5/24 (global)',
      ].join('\n'),
    );
  });

  it('shows a stopped instance without usage', () => {
    const text = renderInstanceInfo(instance, { status: 'Stopped', status_code: 102, pid: 0, processes: 0, network: null, lxcfs: false });
    assert.equal(text, ['Name: lim', 'Status: STOPPED', 'Type: container', 'Architecture: x86_64', 'Created: 2024/05/01 10:00 UTC', 'Last Used: 2024/05/01 10:05 UTC'].join('\n'));
  });

  it('says lxcfs is active and limits are absent when the cgroup has none', () => {
    const text = renderInstanceInfo(instance, {
      status: 'Running',
      status_code: 103,
      pid: 7,
      processes: 1,
      network: null,
      lxcfs: true,
      ready_ms: null,
      limits: { memory: null, memory_soft: null, swap: null, cpus: '0-3', cpu_allowance: null, cpu_weight: 1024, processes: null },
    });
    assert.match(text, /^lxcfs: active$/m);
    assert.match(text, /^Ready: not yet$/m);
    assert.match(text, /^ {2}Memory: unlimited$/m);
    assert.match(text, /^ {2}CPU allowance: unlimited$/m);
    assert.match(text, /^ {2}Processes: unlimited$/m);
  });

  it('shows the init and its readiness from the state\'s boot (berth_instance_boot)', () => {
    const base = { status: 'Running', status_code: 103, pid: 7, processes: 1, network: null, lxcfs: false };
    const systemd = renderInstanceInfo(instance, { ...base, ready_ms: 1234, boot: { init: 'systemd', ready: true, ready_at: '2024-05-01T10:05:01.234Z', ready_ms: 1234, failed_units: [] } });
    assert.match(systemd, /^Init: systemd\nReady: 1\.23s after start$/m);
    const busybox = renderInstanceInfo(instance, { ...base, ready_ms: null, boot: { init: 'other', ready: false, ready_at: null, ready_ms: null, failed_units: null } });
    assert.match(busybox, /^Init: other\nReady: not reported \(only systemd reports it\)$/m);
  });

  it('lists the failed units after lxcfs, says when there are none, and why they are unknown', () => {
    const running: InstanceStateDetails = { status: 'Running', status_code: 103, pid: 7, processes: 1, network: null, lxcfs: false };
    const failed = parseFailedUnits('berth-fail.service loaded failed failed /usr/bin/false\nssh.service        loaded failed failed OpenBSD Secure Shell server\n');
    assert.match(
      renderInstanceInfo(instance, running, failed),
      /^lxcfs: inactive\nFailed units:\n {2}berth-fail\.service \(loaded failed failed\): \/usr\/bin\/false\n {2}ssh\.service \(loaded failed failed\): OpenBSD Secure Shell server$/m,
    );
    assert.match(renderInstanceInfo(instance, running, []), /^Failed units: none$/m);
    assert.match(renderInstanceInfo(instance, running, 'systemctl exited with 1'), /^Failed units: unknown \(systemctl exited with 1\)$/m);
    assert.doesNotMatch(renderInstanceInfo(instance, running), /Failed units/);
  });
});

describe('parseFailedUnits', () => {
  it('reads UNIT LOAD ACTIVE SUB DESCRIPTION lines and nothing from empty output', () => {
    assert.deepEqual(parseFailedUnits('  x.service loaded failed failed A long description\n\n'), [
      { unit: 'x.service', load: 'loaded', active: 'failed', sub: 'failed', description: 'A long description' },
    ]);
    assert.deepEqual(parseFailedUnits(''), []);
  });
});

describe('renderResources', () => {
  it("prints the host's capacity beside the commitments and the admission setting", () => {
    const text = renderResources({
      cpu: { architecture: 'x86_64', total: 4, online: '0,1,2,3' },
      memory: { total: 8 * 1024 ** 3, used: 2 * 1024 ** 3 },
      committed: { instances: 3, memory_bytes: 1024 ** 3, unlimited_memory_instances: 1, cpus: 2, cpu_quota: 0.25, processes: 50 },
      admission: { memory_overcommit: 1.5, memory_allowed: 12 * 1024 ** 3 },
    });
    assert.match(text, /^ {2}CPUs: 4 \(online: 0,1,2,3\)$/m);
    assert.match(text, /^ {2}Committed: 1\.00GiB \(1 of 3 instances without a limit\)$/m);
    assert.match(text, /^ {2}Admission: at most 12\.00GiB \(overcommit 1\.5\)$/m);
  });
});
