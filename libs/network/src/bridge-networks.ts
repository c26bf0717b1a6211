import { chmod, mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { formatDhcpRange } from './domain/dhcp-range.js';
import { renderDnsmasqConfig, type DnsmasqPaths } from './domain/dnsmasq-config.js';
import { ValidationError } from '#core';
import { formatInterfaceAddress, formatSubnet, parseIpv4, subnetContains, subnetsOverlap, type Subnet } from './domain/ipv4.js';
import type { Lease } from './domain/leases.js';
import { natTableName } from './domain/nat-rules.js';
import { validateNetworkName } from './domain/names.js';
import { networkSpecOf, validateNetworkConfig, type NetworkSpec } from './domain/network-config.js';
import {
  NetworkAlreadyExistsError,
  NetworkCommandError,
  NetworkNotFoundError,
  NoFreeSubnetError,
  StateDirectoryError,
  SubnetInUseError,
} from './domain/network.errors.js';
import { validateReservation, type HostReservation } from './domain/reservation.js';
import { chooseSubnet } from './domain/subnet-choice.js';
import * as dnsmasq from './infrastructure/dnsmasq.js';
import { addAddress, createBridge, deleteLinkIfExists, findLink, ip, readHostPrefixes, setLinkUp } from './infrastructure/iproute.js';
import { readBridgeState, type BridgeState } from './infrastructure/bridge-state.js';
import { IpForwarding } from './infrastructure/ip-forwarding.js';
import type { NatBackend } from './infrastructure/nat-backend.js';
import { detectNatBackend } from './infrastructure/nftables-nat.js';

/** What a network looks like on the host right now. */
export interface NetworkRuntimeState {
  readonly name: string;
  readonly bridge: { readonly exists: boolean; readonly up: boolean; readonly mtu?: number; readonly mac?: string };
  readonly ipv4Address: string;
  readonly dnsmasqPid: number | undefined;
  readonly natTable: string | undefined;
  readonly ipForwarding: boolean;
}

/** What berthd keeps on disk beside dnsmasq's files, so that a network can be torn down or adopted without the database. */
interface StoredNetwork {
  readonly name: string;
  readonly config: Record<string, string>;
}

export interface BridgeNetworksOptions {
  /** `$BERTH_DIR`; networks live under `<berthDir>/networks/<name>/`. */
  readonly berthDir: string;
  readonly forwarding?: IpForwarding;
  readonly nat?: NatBackend;
}

/**
 * Managed bridge networks on this host: a bridge with the gateway address, NAT for the subnet,
 * forwarding, and a dnsmasq per network for DHCP and DNS. Framework-free; the caller serializes
 * operations on one network (berthd holds a per-network lock) and keeps the config in the database.
 */
export class BridgeNetworks {
  readonly networksDir: string;
  private readonly forwarding: IpForwarding;
  private natBackend: NatBackend | undefined;

  constructor(options: BridgeNetworksOptions) {
    this.networksDir = join(resolve(options.berthDir), 'networks');
    this.forwarding = options.forwarding ?? new IpForwarding();
    this.natBackend = options.nat;
  }

  /**
   * Validates a network's config and makes it concrete for this host: `ipv4.address` unset or
   * `auto` becomes a free private /24 chosen deterministically from the name (with `ipv4.nat`
   * defaulting to true, as in LXD); an explicit address must not clash with the host. `reserved`
   * are subnets of networks that exist but are not up. Store the result: it is what keeps the
   * subnet stable across restarts.
   */
  async resolveConfig(name: string, config: unknown, reserved: readonly Subnet[] = []): Promise<Record<string, string>> {
    validateNetworkName('name', name);
    const valid = validateNetworkConfig(config);
    const address = valid['ipv4.address'];
    if (address !== undefined && address !== 'auto') {
      const spec = networkSpecOf(name, valid);
      await this.assertSubnetFree(spec.gateway.subnet, reserved);
      return valid;
    }
    const inUse = [...(await readHostPrefixes()).map((p) => p.subnet), ...reserved];
    const gateway = chooseSubnet(name, inUse);
    if (!gateway) throw new NoFreeSubnetError();
    return { ...valid, 'ipv4.address': formatInterfaceAddress(gateway), 'ipv4.nat': valid['ipv4.nat'] ?? 'true' };
  }

  /**
   * Creates the network. Refuses a name whose bridge, directory or nftables table exists and a
   * subnet that clashes with the host (checked again here: the host may have changed since the
   * config was resolved). On any failure, undoes exactly what this call did, nothing more.
   */
  async create(spec: NetworkSpec): Promise<NetworkRuntimeState> {
    await this.prepareNetworksDir();
    const dir = this.dirOf(spec.name);
    const undo: Array<() => Promise<unknown>> = [];
    try {
      // The directory is the claim on the name: mkdir is atomic, and a second caller fails here.
      await mkdir(dir, { mode: 0o755 }).catch((err: NodeJS.ErrnoException) => {
        throw err.code === 'EEXIST' ? new NetworkAlreadyExistsError(spec.name, `${dir} exists`) : err;
      });
      undo.push(() => rm(dir, { recursive: true, force: true }));
      await chmod(dir, 0o755);
      if (await findLink(spec.name)) throw new NetworkAlreadyExistsError(spec.name, `interface ${spec.name} exists on the host`);
      const nat = await this.nat();
      if (spec.nat && (await nat.exists(spec.name))) throw new NetworkAlreadyExistsError(spec.name, `nftables table ${natTableName(spec.name)} exists`);
      await this.assertSubnetFree(spec.gateway.subnet);

      await createBridge(spec.name, spec.mtu).catch((err) => {
        throw err instanceof NetworkCommandError && /File exists/.test(err.stderr) ? new NetworkAlreadyExistsError(spec.name, `interface ${spec.name} exists on the host`) : err;
      });
      undo.push(() => deleteLinkIfExists(spec.name));
      await addAddress(spec.name, spec.gateway);
      await setLinkUp(spec.name);
      if (spec.nat) {
        await nat.install(spec.name, spec.gateway.subnet);
        undo.push(() => nat.remove(spec.name));
      }
      await this.forwarding.acquire(dir);
      undo.push(() => this.forwarding.release(dir));
      await this.writeDnsmasqFiles(spec);
      await dnsmasq.startDnsmasq(spec.name, this.pathsOf(spec.name));
      undo.push(() => dnsmasq.stopDnsmasq(spec.name, this.pathsOf(spec.name)));
      await this.writeStored(spec.name, configOf(spec));
    } catch (err) {
      for (const step of undo.reverse()) await step().catch(() => undefined);
      throw err;
    }
    return this.inspect(spec.name);
  }

  /**
   * Makes the host match the spec of a network that already exists, as at daemon start: a
   * running dnsmasq with the same config is adopted (not restarted), a missing bridge (after a
   * reboot), address, NAT table or dnsmasq is put back, and a changed config is applied.
   */
  async ensure(spec: NetworkSpec): Promise<NetworkRuntimeState> {
    await this.prepareNetworksDir();
    const dir = this.dirOf(spec.name);
    await mkdir(dir, { recursive: true, mode: 0o755 });
    const link = await findLink(spec.name);
    if (link && link.kind !== 'bridge') throw new NetworkAlreadyExistsError(spec.name, `interface ${spec.name} exists and is not a bridge`);
    if (!link) {
      // After a reboot the host may have taken the subnet meanwhile: refuse rather than overlap.
      await this.assertSubnetFree(spec.gateway.subnet);
      await createBridge(spec.name, spec.mtu);
    } else if (link.mtu !== spec.mtu) await ip(['link', 'set', 'dev', spec.name, 'mtu', String(spec.mtu)]);
    const wanted = formatInterfaceAddress(spec.gateway);
    const { stdout } = await ip(['-j', '-4', 'addr', 'show', 'dev', spec.name]);
    const present = (JSON.parse(stdout) as Array<{ addr_info: Array<{ local: string; prefixlen: number }> }>).flatMap((l) => l.addr_info.map((a) => `${a.local}/${a.prefixlen}`));
    for (const other of present.filter((a) => a !== wanted)) await ip(['addr', 'delete', other, 'dev', spec.name]);
    if (!present.includes(wanted)) await addAddress(spec.name, spec.gateway);
    await setLinkUp(spec.name);

    const nat = await this.nat();
    if (spec.nat) await nat.install(spec.name, spec.gateway.subnet);
    else await nat.remove(spec.name);
    await this.forwarding.acquire(dir);

    const paths = this.pathsOf(spec.name);
    const previous = await readFile(paths.config, 'utf8').catch(() => undefined);
    await this.writeDnsmasqFiles(spec);
    const running = await dnsmasq.findDnsmasq(paths);
    // A dnsmasq that outlived its bridge holds sockets bound to the old device: restart it too.
    if (running !== undefined && (!link || previous !== renderDnsmasqConfig(spec, paths))) await dnsmasq.stopDnsmasq(spec.name, paths);
    if ((await dnsmasq.findDnsmasq(paths)) === undefined) {
      await dnsmasq.pruneLeases(paths, (lease) => subnetContains(spec.gateway.subnet, parseIpv4('lease', lease.ipv4)));
      await dnsmasq.startDnsmasq(spec.name, paths);
    }
    await this.writeStored(spec.name, configOf(spec));
    return this.inspect(spec.name);
  }

  /**
   * Applies a changed config to a network that exists, live: a new `ipv4.address` re-addresses
   * the bridge (refused if the new subnet clashes with the host, with `reserved`, or leaves a
   * static reservation outside it), NAT follows `ipv4.nat` and the subnet, the MTU is set, and
   * dnsmasq is restarted on its rewritten config (leases outside the new subnet are dropped). If
   * any step fails, the previous spec is put back before the error is rethrown.
   */
  async update(spec: NetworkSpec, reserved: readonly Subnet[] = []): Promise<NetworkRuntimeState> {
    const previous = await this.stored(spec.name);
    if (formatInterfaceAddress(previous.gateway) !== formatInterfaceAddress(spec.gateway)) {
      await this.assertSubnetFree(spec.gateway.subnet, reserved, spec.name);
      for (const line of await this.hosts(spec.name)) {
        const [, address, holder] = line.split(',');
        if (holder === undefined || subnetContains(spec.gateway.subnet, parseIpv4('reservation', address!))) continue;
        throw new ValidationError('config["ipv4.address"]', `${formatSubnet(spec.gateway.subnet)} does not contain ${address}, reserved by instance "${holder}"`);
      }
    }
    try {
      return await this.ensure(spec);
    } catch (err) {
      await this.ensure(previous).catch(() => undefined);
      throw err;
    }
  }

  /**
   * Renames a network that no nic uses: the bridge interface, the state directory, dnsmasq (stopped
   * and started on the new paths) and the NAT table all take the new name. Refuses a name whose
   * bridge, directory or NAT table exists. On failure, every step taken is undone.
   */
  async rename(from: string, to: string): Promise<NetworkRuntimeState> {
    validateNetworkName('name', to);
    const spec = await this.stored(from);
    const renamed: NetworkSpec = { ...spec, name: to };
    const [oldDir, newDir] = [this.dirOf(from), this.dirOf(to)];
    if (await exists(newDir)) throw new NetworkAlreadyExistsError(to, `${newDir} exists`);
    if (await findLink(to)) throw new NetworkAlreadyExistsError(to, `interface ${to} exists on the host`);
    const nat = await this.nat();
    if (await nat.exists(to)) throw new NetworkAlreadyExistsError(to, `NAT rules for ${to} exist`);
    const undo: Array<() => Promise<unknown>> = [];
    try {
      await dnsmasq.stopDnsmasq(from, this.pathsOf(from));
      undo.push(() => this.ensure(spec));
      await nat.remove(from);
      await ip(['link', 'set', 'dev', from, 'down']);
      await ip(['link', 'set', 'dev', from, 'name', to]);
      undo.push(async () => {
        await ip(['link', 'set', 'dev', to, 'down']);
        await ip(['link', 'set', 'dev', to, 'name', from]);
      });
      await setLinkUp(to);
      await rename(oldDir, newDir);
      undo.push(() => rename(newDir, oldDir));
      await this.forwarding.acquire(newDir);
      undo.push(() => this.forwarding.release(newDir));
      await this.forwarding.release(oldDir);
      undo.push(() => this.forwarding.acquire(oldDir));
      if (renamed.nat) {
        await nat.install(to, renamed.gateway.subnet);
        undo.push(() => nat.remove(to));
      }
      await this.writeDnsmasqFiles(renamed);
      await dnsmasq.startDnsmasq(to, this.pathsOf(to));
      undo.push(() => dnsmasq.stopDnsmasq(to, this.pathsOf(to)));
      await this.writeStored(to, configOf(renamed));
    } catch (err) {
      for (const step of undo.reverse()) await step().catch(() => undefined);
      throw err;
    }
    return this.inspect(to);
  }

  /** The bridge as LXD's network state shows it: addresses, counters, MAC, MTU, up or down, bridge details. */
  async state(name: string): Promise<BridgeState> {
    await this.stored(name);
    return readBridgeState(name);
  }

  /**
   * Deletes the network: stops its dnsmasq, removes its NAT table and bridge (nics still attached
   * are detached by the kernel; the caller refuses while instances use it), gives up forwarding,
   * and removes its directory. Goes on past failures and reports the first one at the end.
   */
  async delete(name: string): Promise<void> {
    validateNetworkName('name', name);
    const dir = this.dirOf(name);
    if (!(await exists(dir))) throw new NetworkNotFoundError(name);
    const failures: unknown[] = [];
    const attempt = async (step: () => Promise<unknown>) => step().catch((err) => failures.push(err));
    const nat = await this.nat();
    await attempt(() => dnsmasq.stopDnsmasq(name, this.pathsOf(name)));
    await attempt(() => nat.remove(name));
    await attempt(async () => {
      const link = await findLink(name);
      if (link?.kind === 'bridge') await deleteLinkIfExists(name);
    });
    await attempt(() => this.forwarding.release(dir));
    if (failures.length === 0) await attempt(() => rm(dir, { recursive: true, force: true }));
    if (failures.length > 0) throw failures[0];
  }

  /** Names of the networks that have state on this host (whether up or not). */
  async list(): Promise<string[]> {
    const entries = await readdir(this.networksDir, { withFileTypes: true }).catch(() => []);
    return entries.filter((e) => e.isDirectory()).map((e) => e.name).sort();
  }

  /** The network's spec as last applied on this host, read from its directory. */
  async stored(name: string): Promise<NetworkSpec> {
    const text = await readFile(join(this.dirOf(name), 'network.json'), 'utf8').catch(() => undefined);
    if (text === undefined) throw new NetworkNotFoundError(name);
    const stored = JSON.parse(text) as StoredNetwork;
    return networkSpecOf(stored.name, stored.config);
  }

  async inspect(name: string): Promise<NetworkRuntimeState> {
    const spec = await this.stored(name);
    const link = await findLink(name);
    const nat = await this.nat();
    return {
      name,
      bridge: link ? { exists: true, up: link.up, mtu: link.mtu, ...(link.mac ? { mac: link.mac } : {}) } : { exists: false, up: false },
      ipv4Address: formatInterfaceAddress(spec.gateway),
      dnsmasqPid: await dnsmasq.findDnsmasq(this.pathsOf(name)),
      natTable: (await nat.exists(name)) ? natTableName(name) : undefined,
      ipForwarding: (await readFile('/proc/sys/net/ipv4/ip_forward', 'utf8')).trim() === '1',
    };
  }

  /** The network's current DHCP leases. */
  async leases(name: string): Promise<Lease[]> {
    await this.stored(name);
    return dnsmasq.readLeases(this.pathsOf(name));
  }

  /**
   * Gives a MAC its DNS name and, with `ipv4`, a static address, effective at once (dnsmasq is
   * reloaded). Uniqueness of names and addresses across instances is the database's to enforce.
   */
  async setHost(name: string, reservation: HostReservation): Promise<void> {
    const spec = await this.stored(name);
    await dnsmasq.writeHost(this.pathsOf(name), validateReservation(reservation, spec.gateway));
    await dnsmasq.reloadDnsmasq(name, this.pathsOf(name));
  }

  async removeHost(name: string, mac: string): Promise<void> {
    await this.stored(name);
    await dnsmasq.removeHost(this.pathsOf(name), mac.toLowerCase());
    await dnsmasq.reloadDnsmasq(name, this.pathsOf(name));
  }

  /** The lines of the network's host reservations, as dnsmasq reads them. */
  async hosts(name: string): Promise<string[]> {
    return dnsmasq.listHosts(this.pathsOf(name));
  }

  pathsOf(name: string): DnsmasqPaths {
    return dnsmasq.dnsmasqPaths(this.dirOf(name));
  }

  private dirOf(name: string): string {
    return join(this.networksDir, validateNetworkName('name', name));
  }

  private async nat(): Promise<NatBackend> {
    this.natBackend ??= await detectNatBackend();
    return this.natBackend;
  }

  /** `own` names the bridge being re-addressed: its current routes and address are no clash. */
  private async assertSubnetFree(subnet: Subnet, reserved: readonly Subnet[] = [], own?: string): Promise<void> {
    const clash = (await readHostPrefixes()).find((p) => (own === undefined || p.device !== own) && subnetsOverlap(p.subnet, subnet));
    if (clash) throw new SubnetInUseError(formatSubnet(subnet), clash.source);
    const taken = reserved.find((r) => subnetsOverlap(r, subnet));
    if (taken) throw new SubnetInUseError(formatSubnet(subnet), `network subnet ${formatSubnet(taken)}`);
  }

  /**
   * dnsmasq drops root to `nobody` and then still reads its hosts directory (on SIGHUP), so every
   * directory above it must be searchable by others.
   */
  private async prepareNetworksDir(): Promise<void> {
    for (let dir = dirname(this.networksDir); ; dir = dirname(dir)) {
      const mode = await stat(dir).then((st) => st.mode, () => undefined);
      if (mode !== undefined && (mode & 0o001) === 0) throw new StateDirectoryError(dir);
      if (dirname(dir) === dir) break;
    }
    await mkdir(this.networksDir, { recursive: true, mode: 0o711 });
    await chmod(this.networksDir, 0o711);
  }

  private async writeDnsmasqFiles(spec: NetworkSpec): Promise<void> {
    const paths = this.pathsOf(spec.name);
    await mkdir(paths.hostsDir, { recursive: true, mode: 0o755 });
    await chmod(paths.hostsDir, 0o755);
    await writeFile(paths.config, renderDnsmasqConfig(spec, paths), { mode: 0o644 });
  }

  private async writeStored(name: string, config: Record<string, string>): Promise<void> {
    const file = join(this.dirOf(name), 'network.json');
    await writeFile(`${file}.tmp`, `${JSON.stringify({ name, config } satisfies StoredNetwork, null, 2)}\n`);
    await rename(`${file}.tmp`, file);
  }
}

/** The config keys that reproduce a spec (the inverse of networkSpecOf). */
function configOf(spec: NetworkSpec): Record<string, string> {
  return {
    'ipv4.address': formatInterfaceAddress(spec.gateway),
    'ipv4.nat': String(spec.nat),
    'ipv4.dhcp': String(spec.dhcp),
    'ipv4.dhcp.ranges': spec.dhcpRanges.map(formatDhcpRange).join(','),
    'dns.domain': spec.domain,
    'bridge.mtu': String(spec.mtu),
  };
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}
