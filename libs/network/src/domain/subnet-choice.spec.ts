import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatInterfaceAddress, formatSubnet, parseSubnet, subnetsOverlap } from './ipv4.js';
import { chooseSubnet, subnetCandidates } from './subnet-choice.js';

const s = (t: string) => parseSubnet('s', t);

describe('subnet choice for ipv4.address=auto', () => {
  it('is deterministic for a seed and differs between seeds', () => {
    const a = chooseSubnet('berthbr0', [])!;
    assert.equal(formatInterfaceAddress(a), formatInterfaceAddress(chooseSubnet('berthbr0', [])!));
    assert.notEqual(formatSubnet(a.subnet), formatSubnet(chooseSubnet('other', [])!.subnet));
    assert.match(formatInterfaceAddress(a), /^10\.\d+\.\d+\.1\/24$/);
  });
  it('skips what the host uses and moves on to the next candidate', () => {
    const first = chooseSubnet('berthbr0', [])!;
    const second = chooseSubnet('berthbr0', [first.subnet])!;
    assert.notEqual(formatSubnet(second.subnet), formatSubnet(first.subnet));
    assert.equal(formatSubnet(second.subnet), formatSubnet([...subnetCandidates('berthbr0')][1]!));
  });
  it('falls back to 172.16/12 and then 192.168/16 when 10/8 is taken, then gives up', () => {
    const in172 = chooseSubnet('n', [s('10.0.0.0/8')])!;
    assert.equal(subnetsOverlap(in172.subnet, s('172.16.0.0/12')), true);
    const in192 = chooseSubnet('n', [s('10.0.0.0/8'), s('172.16.0.0/12')])!;
    assert.equal(subnetsOverlap(in192.subnet, s('192.168.0.0/16')), true);
    assert.equal(chooseSubnet('n', [s('10.0.0.0/8'), s('172.16.0.0/12'), s('192.168.0.0/16')]), undefined);
  });
  it('never proposes a subnet that overlaps a route, however narrow', () => {
    const taken = [...subnetCandidates('x')].slice(0, 5).map((c) => ({ network: c.network + 64, prefix: 26 }));
    const chosen = chooseSubnet('x', taken)!;
    assert.equal(taken.some((t) => subnetsOverlap(t, chosen.subnet)), false);
  });
});
