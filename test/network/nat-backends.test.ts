import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { formatSubnet } from '../../libs/network/src/domain/ipv4.js';
import { natTableName } from '../../libs/network/src/domain/nat-rules.js';
import { chooseSubnet } from '../../libs/network/src/domain/subnet-choice.js';
import { readHostPrefixes } from '../../libs/network/src/infrastructure/iproute.js';
import { IptablesNat } from '../../libs/network/src/infrastructure/iptables-nat.js';
import { type NatBackend } from '../../libs/network/src/infrastructure/nat-backend.js';
import { detectNatBackend, NftablesNat } from '../../libs/network/src/infrastructure/nftables-nat.js';
import { sh } from './support.js';

const name = `bnat${process.pid.toString(36)}`;

/** Everything a backend could have changed: all nft tables and the legacy nat table's rules. */
async function firewallState(): Promise<string> {
  const nft = await sh('nft', 'list', 'ruleset');
  // Without comments and the chains' packet counters, which traffic changes.
  const legacy = (await sh('iptables-legacy-save', '-t', 'nat')).split('\n').filter((l) => !l.startsWith('#')).map((l) => l.replace(/ \[\d+:\d+\]$/, ''));
  return `${nft}\n${legacy.join('\n')}`;
}

describe('NAT backends keep each network\'s rules apart', { concurrency: false }, () => {
  const backends: Array<[string, NatBackend, (n: string) => Promise<string>]> = [
    ['nftables', new NftablesNat(), (n) => sh('nft', 'list', 'table', 'ip', natTableName(n))],
    ['iptables (legacy)', new IptablesNat('iptables-legacy'), (n) => new IptablesNat('iptables-legacy').rules(n).then((r) => r.join('\n'))],
  ];

  after(async () => {
    for (const [, backend] of backends) await backend.remove(name).catch(() => undefined);
  });

  it('detects nftables on this host', async () => {
    assert.equal((await detectNatBackend()).kind, 'nftables');
  });

  for (const [label, backend, listing] of backends) {
    it(`${label}: installs, replaces and removes only its own masquerade rule`, async () => {
      const subnet = chooseSubnet(name, (await readHostPrefixes()).map((p) => p.subnet))!.subnet;
      const cidr = formatSubnet(subnet).replaceAll('.', '\\.');
      const before = await firewallState();
      assert.equal(await backend.exists(name), false);
      await backend.install(name, subnet);
      // Installing twice replaces: still exactly one rule.
      await backend.install(name, subnet);
      assert.equal(await backend.exists(name), true);
      const rules = await listing(name);
      assert.equal(rules.match(/masquerade/gi)?.length, 1, rules);
      assert.match(rules, new RegExp(`${cidr}.*${cidr}.*masquerade`, 'i'));
      assert.notEqual(await firewallState(), before);
      await backend.remove(name);
      await backend.remove(name);
      assert.equal(await backend.exists(name), false);
      assert.equal(await firewallState(), before);
    });
  }
});
