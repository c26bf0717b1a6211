import { formatSubnet, type Subnet } from './ipv4.js';

/** The nftables table that holds every rule of one network, so deleting it is one command. */
export function natTableName(network: string): string {
  return `berth-${network}`;
}

/**
 * The ruleset (for `nft -f -`, applied atomically) that masquerades traffic from the network's
 * subnet to anywhere outside it. It matches only this subnet: nothing else on the host changes.
 * It first declares and deletes the table, so applying it replaces the table's rules in one
 * transaction instead of appending duplicates.
 */
export function renderNftNatRuleset(network: string, subnet: Subnet): string {
  const table = natTableName(network);
  const cidr = formatSubnet(subnet);
  return [
    `table ip ${table}`,
    `delete table ip ${table}`,
    `table ip ${table} {`,
    '  chain postrouting {',
    '    type nat hook postrouting priority srcnat; policy accept;',
    `    ip saddr ${cidr} ip daddr != ${cidr} masquerade`,
    '  }',
    '}',
    '',
  ].join('\n');
}
