import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { parseInterfaces, rewriteInterfaces } from './ifupdown.js';

/** A Debian VM on libvirt's default network, as debian-installer leaves it, plus a static setup. */
const VM_INTERFACES = `# This file describes the network interfaces available on your system
# and how to activate them. For more information, see interfaces(5).

source /etc/network/interfaces.d/*

# The loopback network interface
auto lo
iface lo inet loopback

# The primary network interface
allow-hotplug ens3
iface ens3 inet static
	address 192.168.122.50
	netmask 255.255.255.0
	gateway 192.168.122.1
	dns-nameservers 192.168.122.1
	dns-search example.lan
	post-up ip route add 10.8.0.0/16 via 192.168.122.254 dev ens3

iface ens3 inet6 auto

auto ens4
iface ens4 inet manual
`;

describe('ifupdown interfaces(5)', () => {
  it('reads the IPv4 interfaces with their addressing (netmask turned into a prefix)', () => {
    assert.deepEqual(parseInterfaces(VM_INTERFACES, '/etc/network/interfaces'), [
      { name: 'ens3', config: 'ifupdown', file: '/etc/network/interfaces', method: 'static', addresses: ['192.168.122.50/24'], gateway: '192.168.122.1' },
      { name: 'ens4', config: 'ifupdown', file: '/etc/network/interfaces', method: 'manual', addresses: [] },
    ]);
    assert.deepEqual(parseInterfaces('iface ens3 inet static\n  address 10.0.0.5/16\n', 'x')[0]!.addresses, ['10.0.0.5/16']);
  });

  it('moves the primary interface to eth0 by DHCP, auto instead of allow-hotplug, others commented', () => {
    const { text, edits, warnings } = rewriteInterfaces(VM_INTERFACES, 'ens3');
    const active = text
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '' && !l.startsWith('#'));
    assert.deepEqual(active, [
      'source /etc/network/interfaces.d/*',
      'auto lo',
      'iface lo inet loopback',
      'auto eth0',
      'iface eth0 inet dhcp',
      'post-up ip route add 10.8.0.0/16 via 192.168.122.254 dev ens3',
    ]);
    assert.ok(text.includes('# berth: was "iface ens3 inet static" with address 192.168.122.50/24, gateway 192.168.122.1; eth0 takes its address by DHCP'));
    assert.deepEqual(
      edits.map((e) => `${e.action}: ${e.detail}`),
      [
        'rewritten: iface ens3 inet static (address 192.168.122.50/24, gateway 192.168.122.1) → iface eth0 inet dhcp',
        "commented: iface ens3 inet6 auto: Berth's network gives eth0 IPv4 by DHCP",
        'commented: iface ens4 inet manual: the container has only eth0',
        'rewritten: allow-hotplug ens3 → auto eth0 (hotplug events come from udev, which a container lacks)',
        'commented: auto ens4: the container has only eth0',
      ],
    );
    assert.deepEqual(warnings, ['post-up "ip route add 10.8.0.0/16 via 192.168.122.254 dev ens3" still names ens3, which the container does not have']);
  });

  it('keeps "auto lo ens3" on one line and changes nothing on a second pass', () => {
    const once = rewriteInterfaces('auto lo ens3\niface lo inet loopback\niface ens3 inet dhcp\n', 'ens3');
    assert.equal(once.text, 'auto lo eth0\niface lo inet loopback\n# berth: was "iface ens3 inet dhcp"; eth0 takes its address by DHCP\niface eth0 inet dhcp\n');
    const twice = rewriteInterfaces(once.text, 'eth0');
    assert.equal(twice.text, once.text);
    assert.deepEqual(twice.edits, []);
  });
});
