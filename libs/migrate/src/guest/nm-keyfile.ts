import { CONTAINER_INTERFACE, type ConfigRewrite, type GuestInterface } from './network-config.js';

const ETHERNET_TYPES = new Set(['ethernet', '802-3-ethernet']);

interface Line {
  text: string;
  section?: string;
  key?: string;
  value?: string;
}

/** nm-settings-keyfile(5): a GLib key file. */
function lines(text: string): Line[] {
  let section: string | undefined;
  return text.split('\n').map((text) => {
    const trimmed = text.trim();
    const header = /^\[(.+)\]$/.exec(trimmed);
    if (header) {
      section = header[1];
      return { text };
    }
    const eq = trimmed.indexOf('=');
    if (trimmed.startsWith('#') || eq <= 0 || !section) return { text };
    return { text, section, key: trimmed.slice(0, eq).trim(), value: trimmed.slice(eq + 1).trim() };
  });
}

function get(parsed: Line[], section: string, key: string): string | undefined {
  return parsed.find((l) => l.section === section && l.key === key)?.value;
}

/** The wired interface a NetworkManager keyfile connection binds (interface-name=, else mac-address=). */
export function parseNmKeyfile(text: string, file: string): GuestInterface[] {
  const parsed = lines(text);
  if (!ETHERNET_TYPES.has(get(parsed, 'connection', 'type') ?? '')) return [];
  const mac = get(parsed, 'ethernet', 'mac-address') ?? get(parsed, '802-3-ethernet', 'mac-address');
  const name = get(parsed, 'connection', 'interface-name') || (mac ? `mac:${mac.toLowerCase()}` : undefined);
  if (!name) return [];
  const method = get(parsed, 'ipv4', 'method');
  const addresses: string[] = [];
  let gateway = get(parsed, 'ipv4', 'gateway');
  for (const l of parsed) {
    if (l.section !== 'ipv4' || !l.key || !/^(address|addresses)[0-9]*$/.test(l.key)) continue;
    for (const item of l.value!.split(';').filter(Boolean)) {
      const [address, gw] = item.split(',');
      if (address) addresses.push(address.trim());
      if (gw && !gateway) gateway = gw.trim();
    }
  }
  const iface: GuestInterface = {
    name,
    config: 'NetworkManager',
    file,
    method: method === 'manual' ? 'static' : method === 'auto' ? 'dhcp' : method === 'disabled' ? 'manual' : 'other',
    addresses,
  };
  if (gateway) iface.gateway = gateway;
  return [iface];
}

/** Keys of the VM's binding and static IPv4 setup, dropped when the connection moves to eth0. */
const DROPPED = new Map<string, RegExp>([
  ['ipv4', /^(address[0-9]*|addresses[0-9]*|gateway|dns|dns-search|route[0-9]*(_options)?)$/],
  ['ethernet', /^(mac-address|cloned-mac-address|mac-address-blacklist|mac-address-denylist)$/],
  ['802-3-ethernet', /^(mac-address|cloned-mac-address|mac-address-blacklist|mac-address-denylist)$/],
]);

/**
 * Moves a wired keyfile connection to eth0 by DHCP: interface-name=eth0, no MAC binding (the
 * container's nic has Berth's MAC), [ipv4] method=auto without the static addresses, routes and
 * DNS. Everything else (id, uuid, [ipv6], ...) stays.
 */
export function rewriteNmKeyfile(text: string, file: string): ConfigRewrite {
  const [iface] = parseNmKeyfile(text, file);
  if (!iface || (iface.name === CONTAINER_INTERFACE && iface.method === 'dhcp' && !/mac-address=/.test(text))) {
    return { text, edits: [], warnings: [] };
  }
  const parsed = lines(text);
  const out: string[] = [];
  let sawInterfaceName = false;
  let sawMethod = false;
  let section: string | undefined;
  const closeSection = () => {
    if (section === 'connection' && !sawInterfaceName) out.push(`interface-name=${CONTAINER_INTERFACE}`);
    if (section === 'ipv4' && !sawMethod) out.push('method=auto');
  };
  for (const l of parsed) {
    const header = /^\s*\[(.+)\]\s*$/.exec(l.text);
    if (header) {
      closeSection();
      section = header[1];
      out.push(l.text);
      continue;
    }
    if (!l.key) {
      out.push(l.text);
      continue;
    }
    if (l.section === 'connection' && l.key === 'interface-name') {
      sawInterfaceName = true;
      out.push(`interface-name=${CONTAINER_INTERFACE}`);
    } else if (l.section === 'ipv4' && l.key === 'method') {
      sawMethod = true;
      out.push('method=auto');
    } else if (!DROPPED.get(l.section!)?.test(l.key)) {
      out.push(l.text);
    }
  }
  closeSection();
  while (out.length > 0 && out[out.length - 1] === '') out.pop();
  if (!parsed.some((l) => /^\s*\[ipv4\]\s*$/.test(l.text))) out.push('', '[ipv4]', 'method=auto');
  const had = [iface.addresses.length ? `address ${iface.addresses.join(', ')}` : '', iface.gateway ? `gateway ${iface.gateway}` : ''].filter(Boolean).join(', ');
  const note = `# berth: was bound to ${iface.name}${had ? ` with ${had}` : ''}; ${CONTAINER_INTERFACE} takes its address by DHCP`;
  return {
    text: `${note}\n${out.join('\n')}\n`,
    edits: [{ action: 'rewritten', detail: `${iface.name}${had ? ` (${had})` : ''} → interface-name=${CONTAINER_INTERFACE}, ipv4.method=auto` }],
    warnings: [],
  };
}
