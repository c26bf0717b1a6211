import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
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
  const moved = `btm${process.pid % 100000}`;
  after(async () => {
    await berth('network', 'delete', net);
    await berth('network', 'delete', moved);
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

  it('sets, unsets and edits config live, shows state with info, and renames', async () => {
    const run = promisify(execFile);
    const mtu = async (dev: string) => (JSON.parse((await run('ip', ['-j', 'link', 'show', 'dev', dev])).stdout) as Array<{ mtu: number }>)[0]!.mtu;
    const show = async (n: string) => JSON.parse((await berth('network', 'show', n, '--format', 'json')).stdout) as { description: string; config: Record<string, string> };
    assert.equal((await berth('network', 'create', net)).code, 0);

    assert.deepEqual(await berth('network', 'set', net, 'bridge.mtu=1300', 'user.owner=lab'), { code: 0, stdout: '', stderr: '' });
    assert.equal(await mtu(net), 1300);
    assert.deepEqual(await berth('network', 'set', net, 'ipv4.nat', 'false'), { code: 0, stdout: '', stderr: '' });
    assert.equal((await run('nft', ['list', 'tables'])).stdout.includes(`berth-${net}`), false);
    assert.equal((await show(net)).config['user.owner'], 'lab');

    assert.deepEqual(await berth('network', 'unset', net, 'bridge.mtu'), { code: 0, stdout: '', stderr: '' });
    assert.equal(await mtu(net), 1500);
    assert.deepEqual(await berth('network', 'unset', net, 'bridge.mtu'), { code: 1, stdout: '', stderr: `Error: key "bridge.mtu" is not set on network "${net}"\n` });
    const refused = await berth('network', 'set', net, 'bridge.mtu=12');
    assert.deepEqual(refused, { code: 1, stdout: '', stderr: 'Error: Invalid config["bridge.mtu"]: must be an integer from 68 to 65535\n' });

    // edit from standard input: the YAML of show, changed.
    const shown = (await berth('network', 'show', net)).stdout;
    const edited = shown.replace(/^description: .*$/m, 'description: edited').replace(/^(  ipv4\.nat: ).*$/m, '$1"true"').replace(/^  user\.owner: .*\n/m, '');
    assert.deepEqual(await runBerth(['network', 'edit', net], { env: d.env, input: edited }), { code: 0, stdout: '', stderr: '' });
    const after_ = await show(net);
    assert.equal(after_.description, 'edited');
    assert.equal(after_.config['ipv4.nat'], 'true');
    assert.equal(after_.config['user.owner'], undefined);
    assert.ok((await run('nft', ['list', 'tables'])).stdout.includes(`berth-${net}`));
    const renameInYaml = await runBerth(['network', 'edit', net], { env: d.env, input: shown.replace(/^name: .*$/m, 'name: other') });
    assert.deepEqual(renameInYaml, { code: 1, stdout: '', stderr: `Error: invalid network: the name cannot be changed here (use "berth network rename ${net} <new>")\n` });

    const info = (await berth('network', 'info', net)).stdout;
    const address = after_.config['ipv4.address']!;
    const mac = readFileSync(`/sys/class/net/${net}/address`, 'utf8').trim();
    assert.match(info, new RegExp(`^Name: ${net}\nMAC address: ${mac}\nMTU: 1500\nState: up\nType: broadcast\n\nIP addresses:\n  inet\t${address.replaceAll('.', '\\.')} \\(global\\)\n`));
    assert.match(info, /\nNetwork usage:\n  Bytes received: \d+(\.\d\d[KMG]i)?B\n  Bytes sent: \d+(\.\d\d[KMG]i)?B\n  Packets received: \d+\n  Packets sent: \d+\n/);
    assert.match(info, /\nBridge:\n  ID: 8000\.[0-9a-f]{12}\n  STP: false\n  Forward delay: \d+\n  Default VLAN ID: \d+\n  VLAN filtering: (true|false)\n  Upper devices: \n$/);

    assert.deepEqual(await berth('network', 'rename', net, moved), { code: 0, stdout: `Network ${net} renamed to ${moved}\n`, stderr: '' });
    assert.equal((await show(moved)).description, 'edited');
    assert.equal((await berth('network', 'show', net)).stderr, `Error: Network not found: "${net}"\n`);
    assert.equal(readFileSync(`/sys/class/net/${moved}/address`, 'utf8').trim(), mac);
  });
});
