import { CONTAINER_INTERFACE, type ConfigRewrite, type GuestInterface } from './network-config.js';

type Sections = Array<{ name: string; entries: Array<[string, string]> }>;

/** systemd.syntax(7): [Section] headers and Key=Value lines; comments and continuations ignored. */
function sections(text: string): Sections {
  const out: Sections = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header) {
      out.push({ name: header[1]!, entries: [] });
      continue;
    }
    const eq = line.indexOf('=');
    if (eq > 0 && out.length > 0) out[out.length - 1]!.entries.push([line.slice(0, eq).trim(), line.slice(eq + 1).trim()]);
  }
  return out;
}

function values(parsed: Sections, section: string, key: string): string[] {
  return parsed.filter((s) => s.name === section).flatMap((s) => s.entries.filter(([k]) => k === key).map(([, v]) => v));
}

/**
 * The interface a systemd.network(5) file configures: matched by one plain Name= (no glob) or,
 * failing that, by MACAddress=; loopback and catch-all matches are not a VM's interface.
 */
export function parseNetworkd(text: string, file: string): GuestInterface[] {
  const parsed = sections(text);
  const names = values(parsed, 'Match', 'Name').flatMap((v) => v.split(/\s+/)).filter(Boolean);
  const macs = values(parsed, 'Match', 'MACAddress').flatMap((v) => v.split(/\s+/)).filter(Boolean);
  let name: string | undefined;
  if (names.length === 1 && !/[*?[\]!]/.test(names[0]!)) name = names[0];
  else if (names.length === 0 && macs.length === 1) name = `mac:${macs[0]!.toLowerCase()}`;
  if (!name || name === 'lo') return [];
  const addresses = [...values(parsed, 'Network', 'Address'), ...values(parsed, 'Address', 'Address')].filter((a) => !a.includes(':'));
  const dhcp = values(parsed, 'Network', 'DHCP').some((v) => ['yes', 'true', 'ipv4', '1', 'on'].includes(v));
  const iface: GuestInterface = { name, config: 'networkd', file, method: dhcp ? 'dhcp' : addresses.length > 0 ? 'static' : 'other', addresses };
  const defaultRoutes = parsed.filter((s) => s.name === 'Route' && s.entries.every(([k, v]) => k !== 'Destination' || v === '0.0.0.0/0'));
  const gateway = [...values(parsed, 'Network', 'Gateway'), ...values(defaultRoutes, 'Route', 'Gateway')].find((g) => !g.includes(':') && !g.startsWith('_'));
  if (gateway) iface.gateway = gateway;
  return [iface];
}

/**
 * Rewrites the .network file of the primary interface into eth0 by DHCP: the match becomes
 * Name=eth0, the VM's static addressing and routes go, a comment says what it was.
 */
export function rewriteNetworkd(text: string, file: string): ConfigRewrite {
  const [iface] = parseNetworkd(text, file);
  if (!iface || (iface.name === CONTAINER_INTERFACE && iface.method === 'dhcp')) return { text, edits: [], warnings: [] };
  const had = [iface.addresses.length ? `Address=${iface.addresses.join(', ')}` : '', iface.gateway ? `Gateway=${iface.gateway}` : ''].filter(Boolean).join(', ');
  const rewritten = [
    `# berth: was the configuration of ${iface.name}${had ? ` (${had})` : ''}; ${CONTAINER_INTERFACE} takes its address by DHCP.`,
    `# The original is kept beside this file as ${file.split('/').pop()}.berth-orig.`,
    '[Match]',
    `Name=${CONTAINER_INTERFACE}`,
    '',
    '[Network]',
    'DHCP=ipv4',
    '',
  ].join('\n');
  return {
    text: rewritten,
    edits: [{ action: 'rewritten', detail: `[Match] ${iface.name}${had ? ` with ${had}` : ''} → Name=${CONTAINER_INTERFACE}, DHCP=ipv4` }],
    warnings: [],
  };
}
