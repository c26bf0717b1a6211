import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startDaemon, type Daemon } from '../support/daemon.js';
import { runBerth } from '../support/cli.js';

describe('berth network (real bridges)', () => {
  let d: Daemon;
  const net = `btc${process.pid % 100000}`;
  const berth = (...args: string[]) => runBerth(args, { env: d.env });

  before(async () => {
    d = await startDaemon();
  });
  after(async () => {
    await berth('network', 'delete', net);
    await d.destroy();
  });

  it('creates, lists, shows and deletes a network', async () => {
    assert.deepEqual(await berth('network', 'create', net, 'ipv4.address=auto', '--description', 'lab'), { code: 0, stdout: `Network ${net} created\n`, stderr: '' });
    const list = await berth('network', 'list', '--format', 'csv');
    assert.match(list.stdout, new RegExp(`^${net},bridge,YES,10\\.\\d+\\.\\d+\\.1/24,lab,0,CREATED$`, 'm'));
    const shown = JSON.parse((await berth('network', 'show', net, '--format', 'json')).stdout);
    assert.equal(shown.config['ipv4.nat'], 'true');
    assert.equal((await berth('network', 'list-leases', net, '--format', 'csv')).stdout, '');
    assert.deepEqual(await berth('network', 'delete', net), { code: 0, stdout: `Network ${net} deleted\n`, stderr: '' });
    assert.equal((await berth('network', 'list', '--format', 'csv')).stdout, '');
  });

  it('reports bad input in one line', async () => {
    const bad = await berth('network', 'create', 'btbad', 'ipv4.address=10.1.2.3/33');
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /^Error: Invalid config\["ipv4.address"\]: [^\n]+\n$/);
    const usage = await berth('network', 'create', 'btbad', 'novalue');
    assert.deepEqual(usage, { code: 1, stdout: '', stderr: 'Error: invalid argument "novalue": expected <key>=<value>\n' });
    assert.equal((await berth('network', 'show', 'nope')).stderr, 'Error: Network not found: "nope"\n');
  });
});
