import { isMap, isScalar, isSeq, parseDocument, type Document, type YAMLMap } from 'yaml';

import { CONTAINER_INTERFACE, type ConfigRewrite, type GuestInterface } from './network-config.js';

interface Ethernet {
  id: string;
  name: string;
  method: GuestInterface['method'];
  addresses: string[];
  gateway?: string;
}

function parse(text: string): Document | undefined {
  const doc = parseDocument(text, { prettyErrors: false });
  return doc.errors.length > 0 ? undefined : doc;
}

function ethernetsOf(doc: Document): YAMLMap | undefined {
  const node = doc.getIn(['network', 'ethernets'], true);
  return isMap(node) ? node : undefined;
}

function ethernets(doc: Document): Ethernet[] {
  const map = ethernetsOf(doc);
  if (!map) return [];
  const found: Ethernet[] = [];
  for (const pair of map.items) {
    const id = isScalar(pair.key) ? String(pair.key.value) : '';
    const value: unknown = isMap(pair.value) ? pair.value.toJSON() : {};
    const config = (typeof value === 'object' && value !== null ? value : {}) as Record<string, unknown>;
    const match = (typeof config['match'] === 'object' && config['match'] !== null ? config['match'] : {}) as Record<string, unknown>;
    const name =
      typeof match['name'] === 'string' ? match['name'] : typeof match['macaddress'] === 'string' ? `mac:${match['macaddress']}` : id;
    const addresses = (Array.isArray(config['addresses']) ? config['addresses'] : [])
      .map((a: unknown) => (typeof a === 'string' ? a : typeof a === 'object' && a !== null ? Object.keys(a)[0] : undefined))
      .filter((a): a is string => typeof a === 'string' && !a.includes(':'));
    const dhcp = config['dhcp4'] === true || config['dhcp4'] === 'yes' || config['dhcp4'] === 'true';
    const entry: Ethernet = { id, name, method: dhcp ? 'dhcp' : addresses.length > 0 ? 'static' : 'other', addresses };
    const routes = Array.isArray(config['routes']) ? (config['routes'] as Array<Record<string, unknown>>) : [];
    const gateway =
      typeof config['gateway4'] === 'string'
        ? config['gateway4']
        : routes.find((r) => r && (r['to'] === 'default' || r['to'] === '0.0.0.0/0') && typeof r['via'] === 'string')?.['via'];
    if (typeof gateway === 'string') entry.gateway = gateway;
    found.push(entry);
  }
  return found;
}

/** The ethernets a netplan YAML file configures (netplan(5)); none if it does not parse. */
export function parseNetplan(text: string, file: string): GuestInterface[] {
  const doc = parse(text);
  if (!doc) return [];
  return ethernets(doc).map(({ id: _id, ...e }) => ({ ...e, config: 'netplan' as const, file }));
}

/**
 * Replaces the ethernet entry of `primary` (by its kernel name, or `mac:…`) with
 * `eth0: {dhcp4: true}`, a comment saying what it was; other entries and comments stay.
 * Other ethernets are left (netplan only configures interfaces that exist) with a warning.
 */
export function rewriteNetplan(text: string, primary: string): ConfigRewrite {
  const doc = parse(text);
  const map = doc && ethernetsOf(doc);
  if (!doc || !map) return { text, edits: [], warnings: [] };
  const entries = ethernets(doc);
  const target = entries.find((e) => e.name === primary);
  const warnings = entries
    .filter((e) => e !== target && e.name !== CONTAINER_INTERFACE)
    .map((e) => `netplan configures ${e.name} too, which the container does not have: only ${CONTAINER_INTERFACE} is set up`);
  if (!target || (target.id === CONTAINER_INTERFACE && target.name === CONTAINER_INTERFACE && target.method === 'dhcp')) {
    return { text, edits: [], warnings };
  }
  const index = map.items.findIndex((p) => isScalar(p.key) && String(p.key.value) === target.id);
  const had = [target.addresses.length ? `addresses ${target.addresses.join(', ')}` : '', target.gateway ? `gateway ${target.gateway}` : '']
    .filter(Boolean)
    .join(', ');
  const pair = doc.createPair(CONTAINER_INTERFACE, { dhcp4: true });
  (pair.key as { commentBefore?: string }).commentBefore = ` berth: was "${target.id}"${had ? ` with ${had}` : ''}; ${CONTAINER_INTERFACE} takes its address by DHCP`;
  map.items.splice(index, 1, pair);
  for (const other of ['bridges', 'bonds', 'vlans']) {
    const node = doc.getIn(['network', other], true);
    if (isMap(node) || isSeq(node)) warnings.push(`netplan ${other} are left as they are: they may refer to ${primary}`);
  }
  return {
    text: doc.toString(),
    edits: [{ action: 'rewritten', detail: `ethernets.${target.id}${had ? ` (${had})` : ''} → ethernets.${CONTAINER_INTERFACE} with dhcp4` }],
    warnings,
  };
}
