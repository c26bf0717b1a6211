// berth list's columns and formats (state, IPv4 from DHCP, the time to Ready) and berth
// pause|resume (freeze|unfreeze) through the real CLI, with a real container on a managed network.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { daemonApi } from '../support/api.js';
import { berthRunner } from '../support/cli.js';
import { startDaemon, type Daemon } from '../support/daemon.js';
import { ensureDebianImage } from '../support/debian-image.js';

describe('berth list columns and berth pause|resume (real container)', () => {
  let d: Daemon;
  const net = `btc${process.pid % 100000}`;
  let address = '';
  const { berth, ok } = berthRunner(() => d, { timeoutMs: 10 * 60 * 1000 });
  const { removeInstances, address: addressOf } = daemonApi(() => d);
  const state = async () => (await d.api().get('/1.0/instances/c1/state').expect(200)).body.metadata as { status: string; pid: number; ready_ms: number | null };
  /** The container's freezer cgroup (v1) on the host, from its init's /proc/<pid>/cgroup. */
  const freezerState = (pid: number) => {
    const cgroup = /^\d+:freezer:(.*)$/m.exec(readFileSync(`/proc/${pid}/cgroup`, 'utf8'))?.[1] ?? '';
    return readFileSync(join('/sys/fs/cgroup/freezer', cgroup.replace(/\/payload$/, ''), 'freezer.state'), 'utf8').trim();
  };

  before(async () => {
    const image = await ensureDebianImage();
    d = await startDaemon();
    assert.match(await ok('image', 'import', image, '--alias', 'debian/12'), /fingerprint: [0-9a-f]{64}/);
    await d.api().post('/1.0/networks').send({ name: net, config: { 'ipv4.address': 'auto' } }).expect(200);
    await d.api().post('/1.0/profiles').send({ name: 'lan', devices: { eth0: { type: 'nic', network: net, name: 'eth0' } } }).expect(200);
  });
  after(async () => {
    await removeInstances('c1');
    await d.api().delete('/1.0/profiles/lan');
    await d.api().delete(`/1.0/networks/${net}`);
    await d.destroy();
  });

  it('berth list shows NAME, STATE and the DHCP address in IPV4; -c R adds the time to Ready; table, csv, json, yaml', async () => {
    assert.equal(await ok('launch', 'debian/12', 'c1', '-p', 'default', '-p', 'lan'), 'Instance c1 started\n');
    address = await addressOf('c1');
    assert.match(address, /^\d+\.\d+\.\d+\.\d+$/);
    const table = (await ok('list')).split('\n');
    assert.match(table[1] ?? '', /^\| NAME \| +STATE +\| +IPV4 +\| IPV6 \| +TYPE +\| SNAPSHOTS \| READY \|$/);
    assert.ok(table.some((line) => new RegExp(`^\\| c1 +\\| RUNNING +\\| ${address.replaceAll('.', '\\.')} \\(eth0\\) \\| +\\| CONTAINER \\| 0 +\\| +\\d+\\.\\d{2}s +\\|$`).test(line)), table.join('\n'));
    assert.match(await ok('list', '--format', 'csv'), new RegExp(`^c1,RUNNING,${address.replaceAll('.', '\\.')} \\(eth0\\),,CONTAINER,0,\\d+\\.\\d{2}s\n$`));
    const { ready_ms, pid } = await state();
    assert.equal(typeof ready_ms, 'number');
    assert.equal(await ok('list', '-c', 'nsR4p', '--format', 'csv'), `c1,RUNNING,${(ready_ms! / 1000).toFixed(2)}s,${address} (eth0),${pid}\n`);
    const wide = (await ok('list', '-c', 'nsR')).split('\n');
    assert.match(wide[1] ?? '', /^\| NAME \| +STATE +\| +READY +\|$/);
    const json = JSON.parse(await ok('list', '--format', 'json')) as Array<{ name: string; status: string; state: { ready_ms: number; network: Record<string, unknown> } }>;
    assert.deepEqual(json.map((i) => [i.name, i.status, i.state.ready_ms]), [['c1', 'Running', ready_ms]]);
    // The same instances in YAML; a running container's usage counters move between the two calls.
    const stable = (list: unknown) =>
      (list as Array<{ state: Record<string, unknown> }>).map(({ state, ...rest }) => ({ ...rest, state: { status: state.status, pid: state.pid, ready_ms: state.ready_ms } }));
    assert.deepEqual(stable(parseYaml(await ok('list', '--format', 'yaml'))), stable(json));
    const bad = await berth('list', '-c', 'nX');
    assert.deepEqual(bad, { code: 1, stdout: '', stderr: 'Error: unknown column "X": expected some of ns46tSRpNP\n' });
  });

  it('berth pause freezes the container\'s cgroup, berth resume thaws it; freeze/unfreeze are aliases', async () => {
    const { pid } = await state();
    assert.equal(freezerState(pid), 'THAWED');
    assert.equal(await ok('pause', 'c1'), '');
    assert.equal(freezerState(pid), 'FROZEN');
    assert.equal(await ok('list', '-c', 'ns', '--format', 'csv'), 'c1,FROZEN\n');
    // init itself sleeps in the freezer
    assert.match(readFileSync(`/proc/${pid}/status`, 'utf8'), /^State:\s+D /m);
    assert.deepEqual(await berth('pause', 'c1'), { code: 1, stdout: '', stderr: 'Error: The instance is already frozen\n' });
    assert.equal(await ok('resume', 'c1'), '');
    assert.equal(freezerState(pid), 'THAWED');
    assert.equal(await ok('list', '-c', 'ns', '--format', 'csv'), 'c1,RUNNING\n');
    assert.deepEqual(await berth('resume', 'c1'), { code: 1, stdout: '', stderr: 'Error: The instance is not frozen\n' });
    await ok('freeze', 'c1');
    assert.equal((await state()).status, 'Frozen');
    await ok('unfreeze', 'c1');
    assert.equal((await state()).status, 'Running');
    assert.equal(await ok('exec', 'c1', '--', 'systemctl', 'is-system-running', '--wait'), 'running\n');
  });

  it('berth stop of a frozen instance thaws it and halts it', async () => {
    await ok('pause', 'c1');
    await ok('stop', 'c1');
    assert.equal(await ok('list', '-c', 'ns', '--format', 'csv'), 'c1,STOPPED\n');
    assert.deepEqual(await berth('pause', 'c1'), { code: 1, stdout: '', stderr: 'Error: The instance is not running\n' });
  });
});
