import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UsageError } from '../errors.js';
import { networkConfig, networkDocument, parseNetworkYaml, renderNetworkInfo, type NetworkState } from './network.js';

describe('berth network: arguments, YAML and info', () => {
  it('reads key=value arguments of create, splitting at the first "="', () => {
    assert.deepEqual(networkConfig(['ipv4.address=10.0.0.1/24', 'user.note=a=b']), { 'ipv4.address': '10.0.0.1/24', 'user.note': 'a=b' });
    assert.throws(() => networkConfig(['=x']), (e: unknown) => e instanceof UsageError && e.message === 'invalid argument "=x": expected <key>=<value>');
  });

  it('reads back what show prints, scalars as strings, read-only fields ignored', () => {
    const yaml = ['name: br0', 'description: lab', 'type: bridge', 'managed: true', 'status: Created', 'config:', '  ipv4.nat: true', '  bridge.mtu: 1400', 'used_by: []', 'locations: [none]', ''].join('\n');
    assert.deepEqual(parseNetworkYaml(yaml, 'br0'), { description: 'lab', config: { 'ipv4.nat': 'true', 'bridge.mtu': '1400' } });
    assert.deepEqual(parseNetworkYaml('{}', 'br0'), { description: '', config: {} });
  });

  it('refuses a changed name, unknown fields and non-string values', () => {
    const refuses = (yaml: string, message: string) => assert.throws(() => parseNetworkYaml(yaml, 'br0'), (e: unknown) => e instanceof UsageError && e.message === message);
    refuses('name: br1', 'invalid network: the name cannot be changed here (use "berth network rename br0 <new>")');
    refuses('devices: {}', 'invalid network: unknown field "devices"');
    refuses('config:\n  ipv4.address: [1, 2]', 'invalid network: config.ipv4.address must be a string');
    refuses('- a', 'invalid network: expected a YAML mapping with description and config');
  });

  it('shows config keys sorted, in LXD\'s field order', () => {
    const doc = networkDocument({ used_by: [], config: { 'ipv4.nat': 'true', 'bridge.mtu': '1500' }, status: 'Created', managed: true, type: 'bridge', description: '', name: 'br0' });
    assert.deepEqual(Object.keys(doc), ['name', 'description', 'type', 'managed', 'status', 'config', 'used_by']);
    assert.deepEqual(Object.keys(doc.config), ['bridge.mtu', 'ipv4.nat']);
  });

  it('renders the state as lxc network info does', () => {
    const state: NetworkState = {
      addresses: [{ family: 'inet', address: '10.1.2.1', netmask: '24', scope: 'global' }],
      counters: { bytes_received: 2048, bytes_sent: 100, packets_received: 3, packets_sent: 2 },
      hwaddr: '00:16:3e:00:00:01',
      mtu: 1500,
      state: 'up',
      type: 'broadcast',
      bridge: { id: '8000.00163e000001', stp: false, forward_delay: 1500, vlan_default: 1, vlan_filtering: false, upper_devices: ['bth1', 'bth2'] },
    };
    assert.equal(
      renderNetworkInfo('br0', state),
      [
        'Name: br0', 'MAC address: 00:16:3e:00:00:01', 'MTU: 1500', 'State: up', 'Type: broadcast', '',
        'IP addresses:', '  inet\t10.1.2.1/24 (global)', '',
        'Network usage:', '  Bytes received: 2.00KiB', '  Bytes sent: 100B', '  Packets received: 3', '  Packets sent: 2', '',
        'Bridge:', '  ID: 8000.00163e000001', '  STP: false', '  Forward delay: 1500', '  Default VLAN ID: 1', '  VLAN filtering: false', '  Upper devices: bth1, bth2',
      ].join('\n'),
    );
  });
});
