import { netmaskPrefix } from './ipv4.js';
import { CONTAINER_INTERFACE, type ConfigRewrite, type GuestInterface, type NetworkEdit } from './network-config.js';

const STANZA = /^(iface|mapping|auto|allow-[A-Za-z0-9-]+|source|source-directory|source-dir|rename|no-auto-down|no-scripts)(\s|$)/;
/** Options that describe the VM's addressing or its devices: dropped when eth0 takes DHCP. */
const DROPPED_OPTION = /^(address|netmask|gateway|broadcast|network|pointopoint|hwaddress|metric|dns-[a-z-]+|bridge[_-][a-z_-]+|bond[_-][a-z_-]+|vlan[_-]raw[_-]device|ethernet-wol)$/;

interface Stanza {
  /** Index of the `iface` line and of its option lines. */
  start: number;
  options: number[];
  name: string;
  family: string;
  method: string;
}

function stanzas(lines: string[]): Stanza[] {
  const found: Stanza[] = [];
  let current: Stanza | undefined;
  lines.forEach((line, index) => {
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) return;
    if (STANZA.test(trimmed)) {
      current = undefined;
      const [keyword, name = '', family = '', method = ''] = trimmed.split(/\s+/);
      if (keyword === 'iface') {
        current = { start: index, options: [], name, family, method };
        found.push(current);
      }
      return;
    }
    current?.options.push(index);
  });
  return found;
}

function option(line: string): [string, string] {
  const trimmed = line.trim();
  const space = trimmed.search(/\s/);
  return space < 0 ? [trimmed, ''] : [trimmed.slice(0, space), trimmed.slice(space).trim()];
}

function addressing(lines: string[], stanza: Stanza): { addresses: string[]; gateway?: string } {
  const values = new Map(stanza.options.map((i) => option(lines[i]!)));
  const address = values.get('address');
  const result: { addresses: string[]; gateway?: string } = { addresses: [] };
  if (address) {
    if (address.includes('/')) result.addresses.push(address);
    else {
      const prefix = netmaskPrefix(values.get('netmask') ?? '');
      result.addresses.push(prefix === undefined ? address : `${address}/${prefix}`);
    }
  }
  const gateway = values.get('gateway');
  if (gateway) result.gateway = gateway;
  return result;
}

/** The interfaces an ifupdown file (interfaces(5)) configures for IPv4, loopback excepted. */
export function parseInterfaces(text: string, file: string): GuestInterface[] {
  const lines = text.split('\n');
  return stanzas(lines)
    .filter((s) => s.family === 'inet' && s.name !== 'lo')
    .map((s) => ({
      name: s.name,
      config: 'ifupdown' as const,
      file,
      method: s.method === 'static' || s.method === 'dhcp' || s.method === 'manual' ? s.method : 'other',
      ...addressing(lines, s),
    }));
}

/**
 * Moves `primary`'s IPv4 configuration to `iface eth0 inet dhcp` (static addressing dropped,
 * other options such as up/down hooks kept), turns `allow-hotplug` into `auto` (hotplug events
 * come from udev, which a container does not run), and comments out every other non-loopback
 * interface and `primary`'s non-IPv4 stanzas (the container has only eth0). The loopback is kept.
 */
export function rewriteInterfaces(text: string, primary: string): ConfigRewrite {
  const lines = text.split('\n');
  const edits: NetworkEdit[] = [];
  const warnings: string[] = [];
  const replaced = new Map<number, string[]>();
  const comment = (index: number) => replaced.set(index, [`# ${lines[index]}`]);

  for (const stanza of stanzas(lines)) {
    if (stanza.name === 'lo') continue;
    const head = `iface ${stanza.name} ${stanza.family} ${stanza.method}`;
    if (stanza.name === primary && stanza.family === 'inet') {
      if (stanza.name === CONTAINER_INTERFACE && stanza.method === 'dhcp') continue;
      const { addresses, gateway } = addressing(lines, stanza);
      const had = [addresses.length ? `address ${addresses.join(', ')}` : '', gateway ? `gateway ${gateway}` : ''].filter(Boolean).join(', ');
      replaced.set(stanza.start, [
        `# berth: was "${head}"${had ? ` with ${had}` : ''}; ${CONTAINER_INTERFACE} takes its address by DHCP`,
        `iface ${CONTAINER_INTERFACE} inet dhcp`,
      ]);
      for (const index of stanza.options) {
        const [name, value] = option(lines[index]!);
        if (DROPPED_OPTION.test(name)) comment(index);
        else if (new RegExp(`\\b${escape(stanza.name)}\\b`).test(value)) {
          warnings.push(`${name} "${value}" still names ${stanza.name}, which the container does not have`);
        }
      }
      edits.push({ action: 'rewritten', detail: `${head}${had ? ` (${had})` : ''} → iface ${CONTAINER_INTERFACE} inet dhcp` });
      continue;
    }
    const why = stanza.name === primary ? `Berth's network gives ${CONTAINER_INTERFACE} IPv4 by DHCP` : `the container has only ${CONTAINER_INTERFACE}`;
    replaced.set(stanza.start, [`# berth: ${why}`, `# ${lines[stanza.start]}`]);
    stanza.options.forEach(comment);
    edits.push({ action: 'commented', detail: `${head}: ${why}` });
  }

  lines.forEach((line, index) => {
    const [keyword = '', ...names] = line.trim().split(/\s+/);
    if (keyword !== 'auto' && !keyword.startsWith('allow-')) return;
    const kept = names.filter((n) => n === 'lo' || n === primary).map((n) => (n === primary ? CONTAINER_INTERFACE : n));
    const newKeyword = keyword === 'allow-hotplug' ? 'auto' : keyword;
    const rewritten = `${newKeyword} ${kept.join(' ')}`;
    if (rewritten === `${keyword} ${names.join(' ')}`) return;
    if (kept.length === 0) {
      replaced.set(index, [`# berth: the container has only ${CONTAINER_INTERFACE}`, `# ${line}`]);
      edits.push({ action: 'commented', detail: `${line.trim()}: the container has only ${CONTAINER_INTERFACE}` });
      return;
    }
    replaced.set(index, [rewritten]);
    const hotplug = keyword === 'allow-hotplug' ? ' (hotplug events come from udev, which a container lacks)' : '';
    edits.push({ action: 'rewritten', detail: `${line.trim()} → ${rewritten}${hotplug}` });
  });

  const out = lines.flatMap((line, index) => replaced.get(index) ?? [line]);
  return { text: out.join('\n'), edits, warnings };
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
