/**
 * LXD's devlxd answers for a container, as pure functions of the instance (what the API's
 * GET /1.0/instances/<name> shows): bare JSON without LXD's envelope, raw values as
 * application/octet-stream, errors as short text/plain lines (lxd/devlxd.go, doc/dev-lxd.md).
 */

type Devices = Record<string, Record<string, string>>;

/** What the guest API needs of its instance. */
export interface GuestInstance {
  name: string;
  status: string;
  /** Expanded config with the volatile keys (as the API's `expanded_config`). */
  config: Readonly<Record<string, string>>;
  devices: Readonly<Devices>;
}

export type DevlxdAnswer =
  | { status: number; kind: 'json'; body: unknown }
  | { status: number; kind: 'raw'; body: string }
  | { status: number; kind: 'text'; body: string }
  /** PATCH /1.0: the guest declares its state (instance_ready_state); answered by whoever records it. */
  | { status: 0; kind: 'declare'; state: 'Ready' | 'Started' };

const text = (status: number, body: string): DevlxdAnswer => ({ status, kind: 'text', body });
export const NOT_AUTHORIZED = text(403, 'not authorized');
export const NOT_FOUND = text(404, 'not found');
const METHOD_NOT_ALLOWED = text(405, 'method not allowed');

/** The namespaces a guest may read: its own keys and cloud-init's (LXD refuses the rest with 403). */
const GUEST_KEYS = ['user.', 'cloud-init.'];
const isGuestKey = (key: string) => GUEST_KEYS.some((p) => key.startsWith(p));

/** `security.devlxd` unset or true (LXD's IsTrueOrEmpty). */
export function devlxdEnabled(config: Readonly<Record<string, string>>): boolean {
  const value = config['security.devlxd'];
  return value === undefined || value === '' || /^(true|1|yes|on)$/i.test(value);
}

/** cloud-init's instance-id: `volatile.cloud-init.instance-id`, else the name (LXD's CloudInitID). */
export function cloudInitId(instance: GuestInstance): string {
  return instance.config['volatile.cloud-init.instance-id'] || instance.name;
}

/** The expanded devices, each nic with the MAC it was given (`volatile.<dev>.hwaddr`) when it names none. */
export function guestDevices(instance: GuestInstance): Devices {
  const out: Devices = {};
  for (const [name, device] of Object.entries(instance.devices)) {
    const hwaddr = instance.config[`volatile.${name}.hwaddr`];
    out[name] = device.type === 'nic' && !device.hwaddr && hwaddr ? { ...device, hwaddr } : { ...device };
  }
  return out;
}

/** Whether `state` is what the guest declared (status Ready) or not. */
const guestState = (instance: GuestInstance) => (instance.status === 'Ready' ? 'Ready' : 'Started');

function parseDeclaration(body: string): DevlxdAnswer {
  let state: unknown;
  try {
    state = (JSON.parse(body) as { state?: unknown } | null)?.state;
  } catch {
    return text(400, 'bad request');
  }
  if (state !== 'Ready' && state !== 'Started') return text(400, `Invalid state ${JSON.stringify(state ?? '')}`);
  return { status: 0, kind: 'declare', state };
}

/**
 * The answer to `method path` from the instance's own guest (peer already checked). `body` is
 * the request body (PATCH /1.0 only). /1.0/events is served beside this (a websocket).
 */
export function answer(instance: GuestInstance, method: string, pathname: string, body = ''): DevlxdAnswer {
  if (!devlxdEnabled(instance.config)) return NOT_AUTHORIZED;
  const path = pathname.length > 1 ? pathname.replace(/\/+$/, '') : pathname;
  if (path === '/1.0' && method === 'PATCH') return parseDeclaration(body);
  if (method !== 'GET') return path === '/' || path === '/1.0' || path.startsWith('/1.0/') ? METHOD_NOT_ALLOWED : NOT_FOUND;
  if (path === '/') return { status: 200, kind: 'json', body: ['/1.0'] };
  if (path === '/1.0') return { status: 200, kind: 'json', body: { api_version: '1.0', location: 'none', instance_type: 'container', state: guestState(instance) } };
  if (path === '/1.0/config') {
    const keys = Object.keys(instance.config).filter(isGuestKey).sort();
    return { status: 200, kind: 'json', body: keys.map((k) => `/1.0/config/${k}`) };
  }
  if (path.startsWith('/1.0/config/')) {
    let key: string;
    try {
      key = decodeURIComponent(path.slice('/1.0/config/'.length));
    } catch {
      return text(400, 'bad request');
    }
    if (!isGuestKey(key)) return NOT_AUTHORIZED;
    const value = Object.hasOwn(instance.config, key) ? instance.config[key] : undefined;
    return value === undefined ? NOT_FOUND : { status: 200, kind: 'raw', body: value };
  }
  if (path === '/1.0/meta-data') {
    const extra = instance.config['user.meta-data'] ?? '';
    return { status: 200, kind: 'raw', body: `#cloud-config\ninstance-id: ${cloudInitId(instance)}\nlocal-hostname: ${instance.name}\n${extra}` };
  }
  if (path === '/1.0/devices') return { status: 200, kind: 'json', body: guestDevices(instance) };
  return NOT_FOUND;
}

/** One message on the guest's /1.0/events (`{timestamp, type, metadata}`). */
export interface GuestEvent {
  timestamp: string;
  type: 'config' | 'device';
  metadata: Record<string, unknown>;
}

/**
 * What changed between two looks at the instance, as devlxd events: `config` for `user.*` keys
 * (`{key, old_value, value}`, '' for none, as LXD sends), `device` for devices added, removed or
 * changed (`{action, name, config}`).
 */
export function changes(before: GuestInstance, after: GuestInstance, types: ReadonlySet<string>, now = new Date()): GuestEvent[] {
  const timestamp = now.toISOString();
  const out: GuestEvent[] = [];
  if (types.has('config')) {
    const keys = [...new Set([...Object.keys(before.config), ...Object.keys(after.config)])].filter((k) => k.startsWith('user.')).sort();
    for (const key of keys) {
      const old = before.config[key] ?? '';
      const value = after.config[key] ?? '';
      if (old !== value) out.push({ timestamp, type: 'config', metadata: { key, old_value: old, value } });
    }
  }
  if (types.has('device')) {
    const old = guestDevices(before);
    const next = guestDevices(after);
    for (const name of [...new Set([...Object.keys(old), ...Object.keys(next)])].sort()) {
      const action = !(name in old) ? 'added' : !(name in next) ? 'removed' : JSON.stringify(sortKeys(old[name])) !== JSON.stringify(sortKeys(next[name])) ? 'updated' : null;
      if (action) out.push({ timestamp, type: 'device', metadata: { action, name, config: action === 'removed' ? old[name] : next[name] } });
    }
  }
  return out;
}

const sortKeys = (o: Record<string, string>) => Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : 1)));
