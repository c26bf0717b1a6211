import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ValidationError } from '#core';
import { assignMacs, checkNicKeys, forgetHostNames, nicsOf, replugNeeded, sameLimits, VolatileDraft, type Nic } from './nics.js';

const nic = (spec: Record<string, string>, network = 'lan'): Nic => ({ device: 'eth0', network, spec: { type: 'nic', network, ...spec } });

describe('nic rules', () => {
  it('takes the managed nics of expanded devices: network= or parent=, type=nic only', () => {
    const nics = nicsOf({
      eth0: { type: 'nic', network: 'lan', name: 'eth0' },
      eth1: { type: 'nic', parent: 'dmz' },
      eth2: { type: 'nic', nictype: 'p2p' },
      root: { type: 'disk', path: '/', pool: 'default' },
      web: { type: 'proxy', listen: 'tcp:0.0.0.0:80', connect: 'tcp:127.0.0.1:80' },
    });
    assert.deepEqual(
      nics.map((n) => [n.device, n.network]),
      [
        ['eth0', 'lan'],
        ['eth1', 'dmz'],
      ],
    );
  });

  it('plugs a nic again when anything but its limits changes', () => {
    assert.equal(replugNeeded(nic({ name: 'eth0' }), nic({ name: 'eth0' })), false);
    assert.equal(replugNeeded(nic({ 'limits.ingress': '1Mbit' }), nic({ 'limits.ingress': '2Mbit', 'limits.egress': '1Mbit', 'limits.max': '5Mbit' })), false);
    assert.equal(replugNeeded(nic({}), nic({}, 'dmz')), true, 'another network');
    assert.equal(replugNeeded(nic({ name: 'eth0' }), nic({ name: 'lan0' })), true, 'another name inside');
    assert.equal(replugNeeded(nic({}), nic({ 'ipv4.address': '10.0.0.5' })), true, 'a key added');
    assert.equal(replugNeeded(nic({ hwaddr: '00:16:3e:00:00:01' }), nic({})), true, 'a key removed');
  });

  it('sees limits as the same when unset and empty alike', () => {
    assert.equal(sameLimits(nic({}), nic({ 'limits.ingress': '' })), true);
    assert.equal(sameLimits(nic({ 'limits.max': '1Mbit', name: 'a' }), nic({ 'limits.max': '1Mbit', name: 'b' })), true);
    assert.equal(sameLimits(nic({ 'limits.egress': '1Mbit' }), nic({ 'limits.egress': '2Mbit' })), false);
    assert.equal(sameLimits(nic({}), nic({ 'limits.max': '1Mbit' })), false);
  });

  it('refuses a bad MAC, MTU or limit, naming the device and key', () => {
    const refuses = (spec: Record<string, string>, field: string) =>
      assert.throws(() => checkNicKeys('eth1', spec), (e: unknown) => e instanceof ValidationError && e.field === field);
    checkNicKeys('eth1', { type: 'nic', network: 'lan', hwaddr: '00:16:3E:00:00:01', mtu: '1400', 'limits.ingress': '10Mbit' });
    refuses({ hwaddr: '01:00:5e:00:00:01' }, 'devices["eth1"]["hwaddr"]');
    refuses({ mtu: '67' }, 'devices["eth1"]["mtu"]');
    refuses({ mtu: '65536' }, 'devices["eth1"]["mtu"]');
    refuses({ mtu: '1e3' }, 'devices["eth1"]["mtu"]');
    assert.throws(() => checkNicKeys('eth1', { mtu: 'big' }), (e: unknown) => e instanceof ValidationError && e.message === 'Invalid devices["eth1"]["mtu"]: "big" is not an MTU from 68 to 65535');
    assert.throws(() => checkNicKeys('eth1', { 'limits.egress': 'fast' }), (e: unknown) => e instanceof ValidationError && e.field.startsWith('devices["eth1"]'));
  });

  it('gives a MAC to the nics that have neither hwaddr nor volatile.<dev>.hwaddr', () => {
    const macs = ['00:16:3e:00:00:0a', '00:16:3e:00:00:0b'];
    const changes = assignMacs(
      {
        eth0: { type: 'nic', network: 'lan' },
        eth1: { type: 'nic', network: 'lan', hwaddr: '00:16:3e:00:00:01' },
        eth2: { type: 'nic', network: 'lan' },
        eth3: { type: 'nic', network: 'lan' },
        disk: { type: 'disk', path: '/srv' },
      },
      { 'volatile.eth2.hwaddr': '00:16:3e:00:00:02', 'volatile.uuid': 'u' },
      () => macs.shift()!,
    );
    assert.deepEqual(changes, { 'volatile.eth0.hwaddr': '00:16:3e:00:00:0a', 'volatile.eth3.hwaddr': '00:16:3e:00:00:0b' });
  });

  it('unsets every recorded host_name key when the nics are unplugged, and nothing else', () => {
    const hwaddr = { 'volatile.uuid': 'u', 'volatile.eth0.hwaddr': '00:16:3e:00:00:01', 'volatile.last_state.power': 'RUNNING' };
    const volatile = { ...hwaddr, 'volatile.eth0.host_name': 'bth0123456789ab', 'volatile.gone.host_name': 'bthba9876543210' };
    assert.deepEqual(forgetHostNames(volatile), { 'volatile.eth0.host_name': null, 'volatile.gone.host_name': null });
    assert.deepEqual(forgetHostNames({ 'volatile.uuid': 'u' }), {});
  });

  it('keeps a working copy of volatile: later steps see earlier ones, the caller gets only the difference', () => {
    const draft = new VolatileDraft({ 'volatile.uuid': 'u', 'volatile.eth0.host_name': 'old', 'volatile.eth1.host_name': 'b' });
    draft.set('volatile.eth0.hwaddr', '00:16:3e:00:00:01');
    assert.equal(draft.values['volatile.eth0.hwaddr'], '00:16:3e:00:00:01');
    draft.set('volatile.eth0.host_name', 'new');
    draft.unset('volatile.eth1.host_name');
    draft.set('volatile.uuid', 'u');
    draft.set('volatile.eth2.host_name', 'c');
    draft.unset('volatile.eth2.host_name');
    assert.deepEqual(draft.changes(), { 'volatile.eth0.hwaddr': '00:16:3e:00:00:01', 'volatile.eth0.host_name': 'new', 'volatile.eth1.host_name': null });
  });
});
