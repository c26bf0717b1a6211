import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parse } from 'yaml';

import { parseNetplan, rewriteNetplan } from './netplan.js';

/** An Ubuntu server VM's netplan, as subiquity writes it for a static address. */
const UBUNTU = `# This is the network config written by 'subiquity'
network:
  ethernets:
    enp1s0:
      match:
        macaddress: "52:54:00:12:34:56"
      set-name: enp1s0
      addresses:
      - 192.168.122.50/24
      nameservers:
        addresses:
        - 192.168.122.1
        search: []
      routes:
      - to: default
        via: 192.168.122.1
    enp7s0:
      dhcp4: true
      optional: true
  version: 2
`;

describe('netplan', () => {
  it('reads ethernets with their addresses and default route', () => {
    assert.deepEqual(parseNetplan(UBUNTU, '/etc/netplan/00-installer-config.yaml'), [
      { name: 'mac:52:54:00:12:34:56', method: 'static', addresses: ['192.168.122.50/24'], gateway: '192.168.122.1', config: 'netplan', file: '/etc/netplan/00-installer-config.yaml' },
      { name: 'enp7s0', method: 'dhcp', addresses: [], config: 'netplan', file: '/etc/netplan/00-installer-config.yaml' },
    ]);
    assert.deepEqual(parseNetplan('network: {version: 2, ethernets: {ens3: {dhcp4: true, gateway4: 10.0.0.1}}}', 'x')[0]!.gateway, '10.0.0.1');
    assert.deepEqual(parseNetplan('network: [unclosed', 'x'), []);
  });

  it('replaces the primary ethernet by eth0 with DHCP, keeping the rest and the comments', () => {
    const { text, edits, warnings } = rewriteNetplan(UBUNTU, 'mac:52:54:00:12:34:56');
    assert.deepEqual(parse(text), { network: { ethernets: { eth0: { dhcp4: true }, enp7s0: { dhcp4: true, optional: true } }, version: 2 } });
    assert.ok(text.startsWith("# This is the network config written by 'subiquity'"));
    assert.ok(text.includes('# berth: was "enp1s0" with addresses 192.168.122.50/24, gateway 192.168.122.1; eth0 takes its address by DHCP'));
    assert.deepEqual(edits, [{ action: 'rewritten', detail: 'ethernets.enp1s0 (addresses 192.168.122.50/24, gateway 192.168.122.1) → ethernets.eth0 with dhcp4' }]);
    assert.deepEqual(warnings, ['netplan configures enp7s0 too, which the container does not have: only eth0 is set up']);
    const again = rewriteNetplan(text, 'eth0');
    assert.equal(again.text, text);
    assert.deepEqual(again.edits, []);
  });
});
