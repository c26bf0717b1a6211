import { formatIpv4, netmask } from './ipv4.js';
import type { NetworkSpec } from './network-config.js';

/** Where one network's dnsmasq keeps its files, all under `$BERTH_DIR/networks/<name>/`. */
export interface DnsmasqPaths {
  readonly config: string;
  readonly pidFile: string;
  readonly leaseFile: string;
  readonly hostsDir: string;
  readonly logFile: string;
}

/** How long a dynamic lease lasts; renewals are cheap, and a short lease frees stale addresses. */
const LEASE_TIME = '1h';

/**
 * Renders the config of one network's dnsmasq. It serves only the bridge (never loopback or the
 * host's other interfaces), answers for `<domain>` from its own leases and reservations, and
 * forwards nothing: no upstream servers, no /etc/resolv.conf, no /etc/hosts.
 */
export function renderDnsmasqConfig(spec: NetworkSpec, paths: DnsmasqPaths): string {
  const gateway = formatIpv4(spec.gateway.address);
  const mask = formatIpv4(netmask(spec.gateway.subnet.prefix));
  const lines = [
    '# Written by berthd; rewritten whenever the network changes.',
    'no-resolv',
    'no-hosts',
    'no-poll',
    'strict-order',
    'bind-interfaces',
    `interface=${spec.name}`,
    'except-interface=lo',
    `listen-address=${gateway}`,
    `pid-file=${paths.pidFile}`,
    `log-facility=${paths.logFile}`,
    'quiet-dhcp',
    `domain=${spec.domain}`,
    `local=/${spec.domain}/`,
    'expand-hosts',
  ];
  if (spec.dhcp) {
    lines.push(
      `dhcp-leasefile=${paths.leaseFile}`,
      `dhcp-hostsdir=${paths.hostsDir}`,
      'dhcp-authoritative',
      'dhcp-no-override',
      `dhcp-option=option:router,${gateway}`,
      `dhcp-option=option:dns-server,${gateway}`,
      ...spec.dhcpRanges.map((r) => `dhcp-range=${formatIpv4(r.start)},${formatIpv4(r.end)},${mask},${LEASE_TIME}`),
    );
    // Option 26 only when it differs from Ethernet's default, as LXD does.
    if (spec.mtu !== 1500) lines.push(`dhcp-option=option:mtu,${spec.mtu}`);
  }
  return `${lines.join('\n')}\n`;
}
