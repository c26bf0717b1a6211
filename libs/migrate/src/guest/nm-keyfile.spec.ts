import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { parseNmKeyfile, rewriteNmKeyfile } from './nm-keyfile.js';

/** A RHEL/Fedora-style keyfile for a static wired connection. */
const STATIC = `[connection]
id=Wired connection 1
uuid=5f0b0c2e-3c1d-4e7f-9a8b-1c2d3e4f5a6b
type=ethernet
autoconnect-priority=-999
interface-name=ens3

[ethernet]
mac-address=52:54:00:12:34:56

[ipv4]
address1=192.168.122.50/24,192.168.122.1
dns=192.168.122.1;
method=manual

[ipv6]
addr-gen-mode=default
method=auto

[proxy]
`;

describe('NetworkManager keyfiles', () => {
  it('reads the bound interface with its static addressing', () => {
    assert.deepEqual(parseNmKeyfile(STATIC, '/etc/NetworkManager/system-connections/Wired connection 1.nmconnection'), [
      {
        name: 'ens3',
        config: 'NetworkManager',
        file: '/etc/NetworkManager/system-connections/Wired connection 1.nmconnection',
        method: 'static',
        addresses: ['192.168.122.50/24'],
        gateway: '192.168.122.1',
      },
    ]);
    assert.deepEqual(parseNmKeyfile('[connection]\ntype=wifi\ninterface-name=wlan0\n', 'x'), []);
  });

  it('moves the connection to eth0 by DHCP, without the MAC binding, keeping the rest', () => {
    const { text, edits } = rewriteNmKeyfile(STATIC, 'x');
    assert.equal(
      text,
      `# berth: was bound to ens3 with address 192.168.122.50/24, gateway 192.168.122.1; eth0 takes its address by DHCP
[connection]
id=Wired connection 1
uuid=5f0b0c2e-3c1d-4e7f-9a8b-1c2d3e4f5a6b
type=ethernet
autoconnect-priority=-999
interface-name=eth0

[ethernet]

[ipv4]
method=auto

[ipv6]
addr-gen-mode=default
method=auto

[proxy]
`,
    );
    assert.deepEqual(edits, [{ action: 'rewritten', detail: 'ens3 (address 192.168.122.50/24, gateway 192.168.122.1) → interface-name=eth0, ipv4.method=auto' }]);
    assert.deepEqual(rewriteNmKeyfile(text, 'x').edits, [], 'a second pass changes nothing');
  });

  it('binds a MAC-only connection to eth0', () => {
    const { text } = rewriteNmKeyfile('[connection]\nid=a\ntype=802-3-ethernet\n\n[802-3-ethernet]\nmac-address=52:54:00:AA:BB:CC\n\n[ipv4]\nmethod=auto\n', 'x');
    assert.deepEqual(parseNmKeyfile(text, 'x')[0]!.name, 'eth0');
    assert.ok(!text.includes('mac-address'));
  });
});
