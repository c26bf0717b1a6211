import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { renderDnsmasqConfig } from './dnsmasq-config.js';
import { parseSubnet } from './ipv4.js';
import { natTableName, renderNftNatRuleset } from './nat-rules.js';
import { networkSpecOf } from './network-config.js';
import { validateReservation, reservationLine } from './reservation.js';
import { htbRateCommands, ifbNameFor, parseHtbRate, redirectCommands } from './shaping.js';

const paths = { config: '/b/n/dnsmasq.conf', pidFile: '/b/n/dnsmasq.pid', leaseFile: '/b/n/dnsmasq.leases', hostsDir: '/b/n/dnsmasq.hosts', logFile: '/b/n/dnsmasq.log' };

describe('dnsmasq config', () => {
  it('binds only the bridge, forwards nothing, serves the range and the domain', () => {
    const spec = networkSpecOf('br0', { 'ipv4.address': '10.1.2.1/24', 'ipv4.dhcp.ranges': '10.1.2.100-10.1.2.200', 'bridge.mtu': '1400' });
    const lines = renderDnsmasqConfig(spec, paths).split('\n');
    for (const line of [
      'no-resolv', 'no-hosts', 'bind-interfaces', 'interface=br0', 'except-interface=lo', 'listen-address=10.1.2.1',
      'domain=berth', 'local=/berth/', 'dhcp-range=10.1.2.100,10.1.2.200,255.255.255.0,1h', 'dhcp-hostsdir=/b/n/dnsmasq.hosts',
      'dhcp-leasefile=/b/n/dnsmasq.leases', 'pid-file=/b/n/dnsmasq.pid', 'dhcp-option=option:mtu,1400',
    ]) assert.ok(lines.includes(line), `missing ${line}`);
    assert.equal(lines.some((l) => l.startsWith('server=')), false);
  });
  it('serves DNS only when DHCP is off', () => {
    const text = renderDnsmasqConfig(networkSpecOf('br0', { 'ipv4.address': '10.1.2.1/24', 'ipv4.dhcp': 'false' }), paths);
    assert.doesNotMatch(text, /dhcp-range/);
    assert.match(text, /^local=\/berth\/$/m);
  });
});

describe('host reservations', () => {
  const gw = networkSpecOf('br0', { 'ipv4.address': '10.1.2.1/24' }).gateway;
  it('renders dhcp-host lines', () => {
    assert.equal(reservationLine(validateReservation({ mac: '00:16:3E:00:00:01', name: 'web', ipv4: '10.1.2.50' }, gw)), '00:16:3e:00:00:01,10.1.2.50,web');
    assert.equal(reservationLine(validateReservation({ mac: '00:16:3e:00:00:02', name: 'db' }, gw)), '00:16:3e:00:00:02,db');
  });
  it('refuses addresses outside the subnet or taken by the network itself', () => {
    const mac = '00:16:3e:00:00:01';
    assert.throws(() => validateReservation({ mac, name: 'web', ipv4: '10.1.3.5' }, gw), { message: 'Invalid ipv4.address: 10.1.3.5 is outside 10.1.2.0/24' });
    assert.throws(() => validateReservation({ mac, name: 'web', ipv4: '10.1.2.1' }, gw), { message: 'Invalid ipv4.address: 10.1.2.1 is the network\'s gateway' });
    assert.throws(() => validateReservation({ mac, name: 'web', ipv4: '10.1.2.255' }, gw), { message: 'Invalid ipv4.address: 10.1.2.255 is not a host address of 10.1.2.0/24' });
    assert.throws(() => validateReservation({ mac, name: 'we b' }, gw), { message: 'Invalid name: "we b" is not a DNS label' });
    assert.throws(() => validateReservation({ mac: '00:00:00:00:00:00', name: 'web' }, gw), { message: 'Invalid mac: the all-zeros address is not a valid interface address' });
  });
});

describe('NAT ruleset', () => {
  it('masquerades only the network\'s own subnet, in its own table', () => {
    assert.equal(natTableName('br0'), 'berth-br0');
    const text = renderNftNatRuleset('br0', parseSubnet('s', '10.1.2.0/24'));
    assert.deepEqual(text.split('\n').slice(0, 3), ['table ip berth-br0', 'delete table ip berth-br0', 'table ip berth-br0 {']);
    assert.match(text, /^ {4}ip saddr 10\.1\.2\.0\/24 ip daddr != 10\.1\.2\.0\/24 masquerade$/m);
    assert.equal(text.match(/masquerade/g)!.length, 1);
  });
});

describe('traffic control commands', () => {
  it('shape with one HTB class that takes every packet, and redirect ingress through an ifb', () => {
    assert.deepEqual(htbRateCommands('bthx', 10e6, false), [
      ['qdisc', 'add', 'dev', 'bthx', 'root', 'handle', '1:', 'htb', 'default', '10'],
      ['class', 'replace', 'dev', 'bthx', 'parent', '1:', 'classid', '1:10', 'htb', 'rate', '10000000bit'],
    ]);
    // A live change only replaces the class.
    assert.deepEqual(htbRateCommands('bthx', 20e6, true), [['class', 'replace', 'dev', 'bthx', 'parent', '1:', 'classid', '1:10', 'htb', 'rate', '20000000bit']]);
    const ifb = ifbNameFor('bthx');
    assert.match(ifb, /^bti[0-9a-f]{12}$/);
    assert.deepEqual(redirectCommands('bthx', ifb, false)[1]!.slice(-5), ['mirred', 'egress', 'redirect', 'dev', ifb]);
    assert.equal(redirectCommands('bthx', ifb, true).length, 1);
  });
  it('read back the class rate tc prints', () => {
    assert.equal(parseHtbRate('class htb 1:10 root prio 0 rate 10Mbit ceil 10Mbit burst 1600b cburst 1600b \n'), 10e6);
    assert.equal(parseHtbRate('class htb 1:10 root prio 0 rate 512Kbit ceil 512Kbit burst 1600b\n'), 512e3);
    assert.equal(parseHtbRate(''), undefined);
  });
});
