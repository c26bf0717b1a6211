import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { parseNetworkd, rewriteNetworkd } from './networkd.js';

const STATIC = `[Match]
Name=ens3

[Network]
Address=192.168.122.50/24
Gateway=192.168.122.1
DNS=192.168.122.1
Address=fd00::50/64
`;

const BY_MAC = `[Match]
MACAddress=52:54:00:AB:CD:EF

[Network]
DHCP=yes

[Route]
Gateway=192.168.122.254
Destination=10.8.0.0/16
`;

describe('systemd-networkd .network files', () => {
  it('reads the matched interface with its IPv4 addressing', () => {
    assert.deepEqual(parseNetworkd(STATIC, '/etc/systemd/network/10-ens3.network'), [
      { name: 'ens3', config: 'networkd', file: '/etc/systemd/network/10-ens3.network', method: 'static', addresses: ['192.168.122.50/24'], gateway: '192.168.122.1' },
    ]);
    assert.equal(parseNetworkd(BY_MAC, 'x')[0]!.name, 'mac:52:54:00:ab:cd:ef');
    assert.deepEqual(parseNetworkd('[Match]\nName=en*\n[Network]\nDHCP=yes\n', 'x'), [], 'a catch-all is no VM interface');
    assert.deepEqual(parseNetworkd('[Match]\nName=lo\n', 'x'), []);
  });

  it('rewrites the file into eth0 by DHCP, and leaves an eth0 DHCP file alone', () => {
    const { text, edits } = rewriteNetworkd(STATIC, '/etc/systemd/network/10-ens3.network');
    assert.deepEqual(parseNetworkd(text, 'x'), [{ name: 'eth0', config: 'networkd', file: 'x', method: 'dhcp', addresses: [] }]);
    assert.match(text, /^# berth: was the configuration of ens3 \(Address=192\.168\.122\.50\/24, Gateway=192\.168\.122\.1\)/);
    assert.deepEqual(edits, [{ action: 'rewritten', detail: '[Match] ens3 with Address=192.168.122.50/24, Gateway=192.168.122.1 → Name=eth0, DHCP=ipv4' }]);
    assert.deepEqual(rewriteNetworkd(text, 'x').edits, []);
    assert.equal(rewriteNetworkd(BY_MAC, 'x').edits.length, 1);
  });
});
