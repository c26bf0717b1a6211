import { join } from 'node:path';
import { Inject, Injectable } from '@nestjs/common';
import { BERTH_CONFIG, LOGGER, ValidationError, type BerthConfig, type Logger } from '#core';
import {
  applyCgroupWrites,
  cgroupV1Writes,
  cgroupV2Writes,
  CgroupWriteError,
  HOST_CAPACITY,
  parseQuota,
  readCgroupUsage,
  readOomKills,
  type AppliedSetting,
  type CgroupLocation,
  type CgroupTarget,
  type CgroupUsage,
  type CgroupWrite,
  type HostCapacity,
} from '#quotas';
import { CgroupLimitError, Runtime, type ContainerState } from '#runtime';
import { DefaultPool } from '#storage';
import { applyImageTemplates } from '#images';
import {
  attachVethNic,
  createVethNic,
  deleteVethNic,
  findLink,
  generateMac,
  hostVethName,
  networkSpecOf,
  NetworkStore,
  parseIpv4,
  parseNicLimits,
  proxyDeviceOf,
  stopProxies,
  subnetContains,
  syncProxies,
  type ProxyDevice,
} from '#network';
import { existsSync, readFileSync, watch } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { Instance } from '../domain/instance.js';
import { InstanceRepository } from './instance.repository.js';

/**
 * Host ids for unprivileged containers: root's range in /etc/subuid when it has one, else
 * 1000000-1000999999 (LXD's default). Each container gets its own 65536 ids from it, unless
 * `security.idmap.isolated=false` asks to share the first range.
 */
const ID_RANGE_SIZE = 65_536;

export function hostIdRange(): { first: number; total: number } {
  try {
    const line = readFileSync('/etc/subuid', 'utf8').split('\n').find((l) => l.startsWith('root:'));
    const [, first, total] = line?.split(':') ?? [];
    if (first && total && Number(total) >= ID_RANGE_SIZE) return { first: Number(first), total: Number(total) };
  } catch {
    // no /etc/subuid: the default range
  }
  return { first: 1_000_000, total: 1_000_000_000 };
}
const CGROUP_ROOT = '/sys/fs/cgroup';
/** Where Debian's lxcfs package mounts its FUSE filesystem (LXD looks there too). */
const LXCFS_DIR = '/var/lib/lxcfs';
/** The child cgroup the runtime puts init in; the container's own cgroup above it carries the limits. */
const PAYLOAD = 'payload';

/** Where an instance runs: its volume in the pool, its container through the runtime, its cgroup limits. */
@Injectable()
export class ContainerHost {
  readonly runtime: Runtime;
  private readonly berthDir: string;
  /** The init whose namespace each running instance's nics, proxies and limits were set up for. */
  private readonly inits = new Map<string, number>();

  constructor(
    @Inject(BERTH_CONFIG) config: BerthConfig,
    private readonly pool: DefaultPool,
    private readonly instances: InstanceRepository,
    private readonly networks: NetworkStore,
    @Inject(HOST_CAPACITY) private readonly host: HostCapacity,
    @Inject(LOGGER) private readonly log: Logger,
  ) {
    this.runtime = new Runtime({ berthDir: config.BERTH_DIR, logger: this.log });
    this.berthDir = config.BERTH_DIR;
  }

  /** The host id where the container's root starts: its own range, allocated once and kept. */
  async idmapBase(instance: Instance): Promise<number> {
    const range = hostIdRange();
    if (instance.expanded.config['security.idmap.isolated'] === 'false') return range.first;
    const base = await this.instances.allocateIdRange(instance.name, range.first, range.total, ID_RANGE_SIZE);
    instance.setVolatile('volatile.idmap.base', String(base)); // so the next saveState keeps it
    return base;
  }

  /**
   * Starts the container with its limits already in its cgroup when init runs (and carried over
   * by its monitor through reboots from inside), plugs its nics in while systemd boots (networkd
   * takes them as they appear), starts its proxies, then waits for READY=1. A limit the kernel
   * refuses fails the start with a CgroupWriteError, and nothing runs.
   */
  async start(instance: Instance, readyTimeoutMs: number): Promise<ContainerState> {
    const pool = await this.pool.get();
    const s = instance.snapshot;
    const privileged = instance.expanded.config['security.privileged'] === 'true';
    // The image's `start` templates (hostname, hosts, ...) are rendered into the root before it boots.
    await applyImageTemplates(pool.instanceVolumePath(s.name), 'start', {
      name: s.name,
      architecture: s.architecture,
      ephemeral: s.ephemeral,
      config: instance.expanded.config,
      devices: instance.expanded.devices,
    });
    const started = await this.runtime
      .start({
        name: s.name,
        rootfs: join(pool.instanceVolumePath(s.name), 'rootfs'),
        idmap: privileged ? null : { hostId: await this.idmapBase(instance), count: ID_RANGE_SIZE },
        uuid: s.volatile['volatile.uuid'],
        limits: this.cgroupWrites(instance).writes,
        lxcfs: await lxcfsMount(),
        waitReady: false,
      })
      .catch((err: unknown) => {
        throw err instanceof CgroupLimitError ? new CgroupWriteError(err.file, err.value, err.errnoCode) : err;
      });
    await this.plugNics(instance, started.pid);
    await this.syncProxies(instance, started.pid);
    this.inits.set(s.name, started.pid);
    return this.runtime.waitReady(s.name, readyTimeoutMs);
  }

  /**
   * The init this daemon set the instance's devices up for; undefined when it did not (a daemon
   * just started). Another pid than the container's means the container rebooted from inside:
   * its monitor gave it a new init, in a new network namespace and a new cgroup.
   */
  initOf(name: string): number | undefined {
    return this.inits.get(name);
  }

  /**
   * Brings a running instance's devices to its current init, after a reboot from inside or when
   * adopting a container at daemon start: plugs every nic that is not in init's network namespace
   * (same name, the MAC kept in volatile, the same reservation), joins host ends that lost their
   * bridge to it again, restarts the proxies bound to another init and applies the limits to the
   * container's cgroup. Nics already in place and proxies already relaying are left alone. Returns
   * the devices of the nics it plugged.
   */
  async replug(instance: Instance, state: ContainerState): Promise<string[]> {
    const plugged: string[] = [];
    for (const nic of this.nics(instance)) {
      const hostName = hostVethName(instance.name, nic.device);
      const inside = await findLink(nic.spec.name ?? nic.device, { pid: state.pid });
      if (inside?.kind === 'veth') {
        const host = await findLink(hostName);
        if (host && host.master !== nic.network) await attachVethNic(hostName, nic.network);
        continue;
      }
      // The previous init's namespace may not be torn down yet: its pair would hold the host end's name.
      await deleteVethNic(hostName);
      await this.plugNic(instance, nic, state.pid);
      plugged.push(nic.device);
    }
    await this.syncProxies(instance, state.pid);
    // The monitor carries the limits it was started with over to a rebooted container's fresh
    // cgroup; a limit set since then (a key that had none at the start) is not among them.
    await this.applyLimits(instance, state).catch((err: Error) =>
      this.log.warn({ instance: instance.name, err: err.message }, "could not apply the limits to the container's new cgroup"),
    );
    this.inits.set(instance.name, state.pid);
    return plugged;
  }

  /**
   * Calls `onChange` whenever the container's monitor creates or replaces a file in its runtime
   * directory, as it does with its state file when a reboot from inside gave the container a new
   * init (and on READY=1). A hint to ask state() again, no more. Returns the function that stops
   * watching; undefined when there is no runtime directory (the container is gone).
   */
  watchRuntime(name: string, onChange: () => void): (() => void) | undefined {
    try {
      const watcher = watch(join(this.berthDir, 'containers', name), { persistent: false }, (event) => {
        if (event === 'rename') onChange();
      });
      watcher.on('error', () => watcher.close());
      return () => watcher.close();
    } catch {
      return undefined;
    }
  }

  /** The managed nics of the expanded devices: `type=nic` with `network=<managed network>`. */
  nics(instance: Instance): Array<{ device: string; network: string; spec: Record<string, string> }> {
    return Object.entries(instance.expanded.devices)
      .filter(([, d]) => d.type === 'nic' && (d.network ?? d.parent) !== undefined)
      .map(([device, spec]) => ({ device, network: (spec.network ?? spec.parent)!, spec }));
  }

  /** Refuses nics on networks that do not exist (400 naming the device), before anything is recorded. */
  async checkNetworks(instance: Instance): Promise<void> {
    const records = new Map((await this.networks.records()).map((r) => [r.name, r]));
    let others: Instance[] | undefined;
    for (const { device, network, spec } of this.nics(instance)) {
      const record = records.get(network);
      if (!record) throw new ValidationError(`devices["${device}"]["${spec.network !== undefined ? 'network' : 'parent'}"]`, `network "${network}" does not exist`);
      const wanted = spec['ipv4.address'];
      if (wanted === undefined) continue;
      const field = `devices["${device}"]["ipv4.address"]`;
      const address = parseIpv4(field, wanted);
      const { gateway } = networkSpecOf(record.name, record.config);
      if (!subnetContains(gateway.subnet, address)) throw new ValidationError(field, `${wanted} is outside ${network}'s subnet ${record.config['ipv4.address']}`);
      if (address === gateway.address) throw new ValidationError(field, `${wanted} is ${network}'s own address`);
      // A static reservation is the instance's alone: a second one asking for it is refused, naming the holder.
      others ??= (await this.instances.list()).filter((i) => i.name !== instance.name);
      const holder = others.find((o) => this.nics(o).some((n) => n.network === network && n.spec['ipv4.address'] === wanted));
      if (holder) throw new ValidationError(field, `${wanted} is already reserved by instance "${holder.name}"`);
    }
  }

  /** The expanded `type=proxy` devices, checked (a ValidationError names the device and key). */
  proxies(instance: Instance): Record<string, ProxyDevice> {
    // nat=true forwards to a nic's static address (LXD's rule), so the proxies need the nics'.
    const nicAddresses = Object.fromEntries(
      this.nics(instance)
        .filter((n) => n.spec['ipv4.address'])
        .map((n) => [n.device, { network: n.network, address: n.spec['ipv4.address']! }]),
    );
    return Object.fromEntries(
      Object.entries(instance.expanded.devices)
        .filter(([, d]) => d.type === 'proxy')
        .map(([device, spec]) => [device, proxyDeviceOf(device, spec, nicAddresses)]),
    );
  }

  /** Refuses proxy devices Berth cannot run (bad addresses, bind=instance, nat=true without a static nic address), before anything is recorded. */
  checkProxies(instance: Instance): void {
    this.proxies(instance);
  }

  /**
   * Makes the running proxies match the expanded devices (at start, and when a running instance's
   * devices change): all or nothing, a listen address in use fails with a ProxyStartError naming
   * the device and errno.
   */
  async syncProxies(instance: Instance, pid: number): Promise<void> {
    const { started, stopped } = await syncProxies({ berthDir: this.berthDir, instance: instance.name, pid, devices: this.proxies(instance) });
    if (started.length > 0 || stopped.length > 0) this.log.info({ instance: instance.name, started, stopped }, 'proxies updated');
  }

  /** A veth per nic: host end on the bridge, container end named and addressed inside; MACs kept in volatile. */
  private async plugNics(instance: Instance, pid: number): Promise<void> {
    for (const nic of this.nics(instance)) await this.plugNic(instance, nic, pid);
  }

  private async plugNic(instance: Instance, { device, network, spec }: { device: string; network: string; spec: Record<string, string> }, pid: number): Promise<void> {
    const key = `volatile.${device}.hwaddr` as const;
    const mac = spec.hwaddr ?? instance.snapshot.volatile[key] ?? generateMac();
    if (!spec.hwaddr) instance.setVolatile(key, mac);
    await this.networks.host.setHost(network, { mac, name: instance.name, ipv4: spec['ipv4.address'] });
    await createVethNic({
      hostName: hostVethName(instance.name, device),
      bridge: network,
      netns: { pid },
      name: spec.name ?? device,
      mac,
      mtu: spec.mtu ? Number(spec.mtu) : undefined,
      limits: parseNicLimits(spec, `devices["${device}"]`),
    });
  }

  /** Removes what outlives a container's network namespace (the shaping devices), and forgets its init. */
  async unplugNics(instance: Instance): Promise<void> {
    this.inits.delete(instance.name);
    for (const { device } of this.nics(instance)) await deleteVethNic(hostVethName(instance.name, device)).catch(() => undefined);
  }

  /** IPv4 addresses of the instance's nics, from the leases of their networks (LXD's state.network). */
  async addresses(instance: Instance): Promise<Record<string, { addresses: Array<{ family: string; address: string; netmask: string; scope: string }>; hwaddr: string; state: string; type: string }>> {
    const out: Record<string, { addresses: Array<{ family: string; address: string; netmask: string; scope: string }>; hwaddr: string; state: string; type: string }> = {};
    for (const { device, network, spec } of this.nics(instance)) {
      const mac = spec.hwaddr ?? instance.snapshot.volatile[`volatile.${device}.hwaddr`];
      if (!mac) continue;
      const leases = await this.networks.host.leases(network).catch(() => []);
      const lease = leases.find((l) => l.mac.toLowerCase() === mac.toLowerCase());
      out[spec.name ?? device] = {
        addresses: lease ? [{ family: 'inet', address: lease.ipv4, netmask: '24', scope: 'global' }] : [],
        hwaddr: mac,
        state: 'up',
        type: 'broadcast',
      };
    }
    return out;
  }

  /** The cgroup writes of the expanded limits, for this host's layout (v1 controllers, or v2). */
  private cgroupWrites(instance: Instance): { version: 1 | 2; writes: CgroupWrite[] } {
    const quota = parseQuota(instance.expanded.config, this.host);
    const cpus = quota.cpu?.kind === 'set' ? quota.cpu.cpus : quota.cpu?.kind === 'count' ? this.host.cpus.slice(0, quota.cpu.count) : undefined;
    if (existsSync(join(CGROUP_ROOT, 'memory', 'cgroup.procs'))) {
      return { version: 1, writes: cgroupV1Writes(quota, cpus, existsSync(join(CGROUP_ROOT, 'memory', 'memory.memsw.limit_in_bytes'))) };
    }
    return { version: 2, writes: cgroupV2Writes(quota, cpus) };
  }

  /** Applies the expanded limits to the running container's cgroup and reads them back. */
  async applyLimits(instance: Instance, state: ContainerState): Promise<AppliedSetting[]> {
    const { version, writes } = this.cgroupWrites(instance);
    const rel = state.cgroup.replace(/^\/+/, '');
    if (version === 1) {
      const target: CgroupTarget = { version: 1, paths: Object.fromEntries(['memory', 'cpu', 'cpuset', 'pids', 'blkio'].map((c) => [c, join(CGROUP_ROOT, c, rel)])) };
      // v1 refuses to shrink a cpuset below a child's: init's `payload` child first, then the container's.
      const cpuset = writes.filter((w) => w.controller === 'cpuset');
      if (cpuset.length > 0) await applyCgroupWrites({ version: 1, paths: { cpuset: join(CGROUP_ROOT, 'cpuset', rel, PAYLOAD) } }, cpuset);
      return applyCgroupWrites(target, writes);
    }
    return applyCgroupWrites({ version: 2, path: join(CGROUP_ROOT, rel) }, writes);
  }

  /** What a running container uses, and the limits in force, read from its cgroup (v1 here, v2 on unified hosts). */
  usage(state: ContainerState): Promise<CgroupUsage> {
    return readCgroupUsage(this.cgroupOf(state));
  }

  /** How many processes the OOM killer ended in the container's current cgroup. */
  oomKills(state: ContainerState): Promise<number> {
    return readOomKills(this.cgroupOf(state));
  }

  private cgroupOf(state: ContainerState): CgroupLocation {
    return { version: existsSync(join(CGROUP_ROOT, 'memory', 'cgroup.procs')) ? 1 : 2, root: CGROUP_ROOT, rel: state.cgroup.replace(/^\/+/, '') };
  }

  /** Stops the container, then its proxies (which also end by themselves once init is gone). */
  async stop(name: string, timeout: number, force: boolean): Promise<void> {
    this.inits.delete(name);
    try {
      await this.runtime.stop(name, { timeout, force });
    } finally {
      await stopProxies(this.berthDir, name);
    }
  }

  state(name: string): Promise<ContainerState> {
    return this.runtime.state(name);
  }
}

/**
 * The lxcfs mount when lxcfs runs (its meminfo answers), so that the container's /proc files
 * show its own limits; undefined otherwise (a dead FUSE daemon's mount answers ENOTCONN).
 */
async function lxcfsMount(): Promise<string | undefined> {
  try {
    await readFile(join(LXCFS_DIR, 'proc', 'meminfo'));
    return LXCFS_DIR;
  } catch {
    return undefined;
  }
}
