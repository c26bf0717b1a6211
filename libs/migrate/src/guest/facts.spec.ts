import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { elfArchitecture } from './elf.js';
import { netmaskPrefix, reservationFor } from './ipv4.js';
import { parseOsRelease } from './os-release.js';

function header(elfClass: number, data: number, machine: number): Buffer {
  const h = Buffer.alloc(64);
  h.write('\x7fELF', 0, 'latin1');
  h[4] = elfClass;
  h[5] = data;
  if (data === 1) h.writeUInt16LE(machine, 18);
  else h.writeUInt16BE(machine, 18);
  return h;
}

describe('guest facts', () => {
  it('reads os-release with quotes and escapes; ID defaults to linux', () => {
    assert.deepEqual(parseOsRelease('PRETTY_NAME="Ubuntu 24.04.1 LTS"\nID=ubuntu\nVERSION_ID="24.04"\n'), { id: 'ubuntu', versionId: '24.04', prettyName: 'Ubuntu 24.04.1 LTS' });
    assert.deepEqual(parseOsRelease("NAME='Alpine'\nPRETTY_NAME=\"say \\\"hi\\\"\"\n"), { id: 'linux', prettyName: 'say "hi"' });
  });

  it('names ELF machines as uname -m does', () => {
    assert.equal(elfArchitecture(header(2, 1, 62)), 'x86_64');
    assert.equal(elfArchitecture(header(2, 1, 183)), 'aarch64');
    assert.equal(elfArchitecture(header(1, 1, 40)), 'armv7l');
    assert.equal(elfArchitecture(header(2, 1, 21)), 'ppc64le');
    assert.equal(elfArchitecture(header(2, 2, 22)), 's390x');
    assert.equal(elfArchitecture(header(2, 1, 243)), 'riscv64');
    assert.equal(elfArchitecture(Buffer.from('#!/bin/sh\nexec /bin/true\n')), undefined);
    assert.equal(elfArchitecture(header(2, 1, 9999)), undefined);
  });

  it('reserves the VM address only when it is a host address of the subnet other than the gateway', () => {
    assert.equal(reservationFor('192.168.122.50/24', '192.168.122.0/24', '192.168.122.1'), '192.168.122.50');
    assert.equal(reservationFor('192.168.122.1/24', '192.168.122.0/24', '192.168.122.1'), undefined);
    assert.equal(reservationFor('192.168.122.255/24', '192.168.122.0/24', '192.168.122.1'), undefined);
    assert.equal(reservationFor('192.168.122.0/24', '192.168.122.0/24', '192.168.122.1'), undefined);
    assert.equal(reservationFor('192.168.122.50/24', '10.1.2.0/24', '10.1.2.1'), undefined);
    assert.equal(reservationFor('10.1.3.7/16', '10.1.0.0/16', '10.1.0.1'), '10.1.3.7');
    assert.equal(netmaskPrefix('255.255.255.0'), 24);
    assert.equal(netmaskPrefix('255.0.255.0'), undefined);
    assert.equal(netmaskPrefix('255.255.255.255'), 32);
  });
});
