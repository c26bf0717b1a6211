import { createHash } from 'node:crypto';

/** A proxy device in nat mode: the kernel rewrites the destination of packets to the listen address. */
export interface PortForward {
  readonly protocol: 'tcp' | 'udp';
  /** An IPv4 address of the host (never the wildcard). */
  readonly listenAddress: string;
  readonly listenPorts: readonly number[];
  /** The static IPv4 address of the instance's nic. */
  readonly targetAddress: string;
  /** One port (every listen port goes to it) or one per listen port, in order. */
  readonly targetPorts: readonly number[];
  /** The managed bridge the target sits on. */
  readonly bridge: string;
}

/** 127.0.0.0/8: the kernel routes it off the host only with route_localnet on the outgoing interface. */
export function isLoopback(address: string): boolean {
  return address.split('.')[0] === '127';
}

/** Identifies one device's rules on the host, for every daemon (BERTH_DIR) on it: 12 hex digits. */
export function portForwardId(berthDir: string, instance: string, device: string): string {
  return createHash('sha256').update(`${berthDir}\u0000${instance}\u0000${device}`).digest('hex').slice(0, 12);
}

/** The nftables table holding one device's rules. */
export function forwardTableName(id: string): string {
  return `berth-proxy-${id}`;
}

/** The comment on the rule that drops packets for 127.0.0.0/8 arriving on `bridge`; also how the rule is found. */
export function localnetComment(bridge: string): string {
  return `berth localnet ${bridge}`;
}

/** Each listen port with the target port it goes to. */
export function portPairs(forward: PortForward): Array<[number, number]> {
  return forward.listenPorts.map((port, i) => [port, forward.targetPorts.length === 1 ? forward.targetPorts[0]! : forward.targetPorts[i]!]);
}

/**
 * The ruleset (for `nft -f -`, applied atomically, replacing the table's previous rules) of one
 * forward: DNAT of packets for the listen address and ports, both arriving (prerouting) and made
 * on the host (output); masquerading of the instance's own connections to its listen address
 * (hairpin) and, for a loopback listen address, of the host's connections (their source,
 * 127.0.0.1, could not leave the host); and then a drop of anything arriving on the bridge for
 * 127.0.0.0/8, which route_localnet would otherwise let the instances reach.
 */
export function renderNftForwardRuleset(id: string, forward: PortForward): string {
  const table = forwardTableName(id);
  const { protocol: p, listenAddress: listen, targetAddress: target } = forward;
  const pairs = portPairs(forward);
  const targetPorts = [...new Set(pairs.map(([, to]) => to))].join(', ');
  const dnat = pairs.map(([from, to]) => `    ip daddr ${listen} ${p} dport ${from} dnat to ${target}:${to}`);
  const lines = [
    `table ip ${table}`,
    `delete table ip ${table}`,
    `table ip ${table} {`,
    '  chain prerouting {',
    '    type nat hook prerouting priority dstnat; policy accept;',
    ...dnat,
    '  }',
    '  chain output {',
    '    type nat hook output priority -100; policy accept;',
    ...dnat,
    '  }',
    '  chain postrouting {',
    '    type nat hook postrouting priority srcnat; policy accept;',
    `    ip saddr ${target} ip daddr ${target} ${p} dport { ${targetPorts} } masquerade`,
  ];
  if (isLoopback(listen)) {
    lines.push(
      `    ip saddr 127.0.0.0/8 ip daddr ${target} ${p} dport { ${targetPorts} } masquerade`,
      '  }',
      '  chain localnet {',
      '    type filter hook prerouting priority mangle; policy accept;',
      `    iifname "${forward.bridge}" ip daddr 127.0.0.0/8 drop comment "${localnetComment(forward.bridge)}"`,
    );
  }
  lines.push('  }', '}', '');
  return lines.join('\n');
}
