import { join } from 'node:path';
import { Inject, Injectable } from '@nestjs/common';
import { BERTH_CONFIG, DomainError, LOGGER, ValidationError, type BerthConfig, type Logger } from '#core';
import {
  applyCgroupWrites,
  cgroupV1Writes,
  cgroupV2Writes,
  CgroupWriteError,
  hasDiskIoLimits,
  HOST_CAPACITY,
  parseQuota,
  readCgroupUsage,
  readOomKills,
  type AppliedSetting,
  type CgroupLocation,
  type CgroupTarget,
  type CgroupUsage,
  type CgroupWrite,
  type DiskIoTarget,
  type HostCapacity,
} from '#quotas';
import { CgroupLimitError, Runtime, type ContainerState } from '#runtime';
import { DefaultPool } from '#storage';
import { applyImageTemplates } from '#images';
import {
  applyNicLimits,
  attachVethNic,
  createVethNic,
  deleteVethNic,
  findLink,
  generateMac,
  hostVethName,
  networkSpecOf,
  NetworkStore,
  parseIpv4,
  parseMac,
  parseNicLimits,
  proxyDeviceOf,
  stopProxies,
  subnetContains,
  syncProxies,
  type ProxyDevice,
} from '#network';
import { existsSync, readFileSync, watch } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
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
/** A managed nic of the expanded devices. */
export interface Nic {
  readonly device: string;
  readonly network: string;
  readonly spec: Readonly<Record<string, string>>;
}
/** A running instance's network interface as its state shows it (LXD's InstanceStateNetwork). */
export interface NicState {
  addresses: Array<{ family: string; address: string; netmask: string; scope: string }>;
  hwaddr: string;
  host_name?: string;
  state: string;
  type: string;
}
/** `volatile.<device>.host_name`: the host end of a plugged nic, recorded while the instance runs (as LXD does). */
const hostNameKey = (device: string) => `volatile.${device}.host_name` as const;
const HOST_NAME_KEY = /^volatile\..+\.host_name$/;
/** The nic keys that can change on a plugged nic without plugging it again. */
const LIVE_NIC_KEYS = new Set(['limits.ingress', 'limits.egress', 'limits.max']);
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
    const limits = await this.cgroupWrites(instance);
    const started = await this.runtime
      .start({
        name: s.name,
        rootfs: join(pool.instanceVolumePath(s.name), 'rootfs'),
        idmap: privileged ? null : { hostId: await this.idmapBase(instance), count: ID_RANGE_SIZE },
        uuid: s.volatile['volatile.uuid'],
        limits: limits.writes,
        lxcfs: await lxcfsMount(),
        waitReady: false,
      })
      .catch((err: unknown) => {
        throw err instanceof CgroupLimitError ? new CgroupWriteError(err.file, err.value, err.errnoCode) : err;
      });
    if (limits.version === 1) await this.throttlePayload(started.cgroup, limits.writes);
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
      const hostName = this.hostNameOf(instance, nic.device);
      const inside = await findLink(nic.spec.name ?? nic.device, { pid: state.pid });
      if (inside?.kind === 'veth') {
        const host = await findLink(hostName);
        if (host && host.master !== nic.network) await attachVethNic(hostName, nic.network);
        if (host) instance.setVolatile(hostNameKey(nic.device), hostName);
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
  nics(instance: Instance): Nic[] {
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
      checkNicKeys(device, spec);
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

  /**
   * Gives every nic without a `hwaddr` its `volatile.<dev>.hwaddr` (kept if it has one), before
   * the record is written, so that a nic hotplugged after the write keeps the MAC it was given.
   */
  assignMacs(instance: Instance): void {
    for (const { device, spec } of this.nics(instance)) {
      const key = `volatile.${device}.hwaddr` as const;
      if (!spec.hwaddr && !instance.snapshot.volatile[key]) instance.setVolatile(key, generateMac());
    }
  }

  /** Forgets the instance's DHCP reservations (its nics' MACs) on their networks: the instance is going away. */
  async forgetNics(instance: Instance): Promise<void> {
    for (const nic of this.nics(instance)) {
      const mac = this.macOf(instance, nic);
      if (mac) await this.networks.host.removeHost(nic.network, mac).catch(() => undefined);
    }
  }

  /**
   * Makes the nics plugged into a running instance match its expanded devices (hotplug, like
   * `lxc config device add|remove`): a nic whose host end is missing is plugged (its container end
   * named as the device's `name`, its MAC from volatile, its reservation in dnsmasq); one that
   * changed in a key other than its limits is plugged again; one whose limits changed gets them on
   * its host end, live; one of `previous` no longer wanted is unplugged and its dnsmasq host entry
   * removed. All or nothing: on a failure, what this call did is undone before the error is
   * rethrown. Returns the function that undoes it all (when a later step of the change fails).
   */
  async syncNics(instance: Instance, pid: number, previous: readonly Nic[]): Promise<() => Promise<void>> {
    const before = new Map(previous.map((n) => [n.device, n]));
    const wanted = this.nics(instance);
    const undo: Array<() => Promise<unknown>> = [];
    const changes: Record<'plugged' | 'unplugged' | 'limited', string[]> = { plugged: [], unplugged: [], limited: [] };
    const removeNic = async (nic: Nic) => {
      await deleteVethNic(this.hostNameOf(instance, nic.device));
      instance.unsetVolatile(hostNameKey(nic.device));
      const mac = this.macOf(instance, nic);
      if (mac) await this.networks.host.removeHost(nic.network, mac);
    };
    const unplug = async (nic: Nic) => {
      await removeNic(nic);
      undo.push(() => this.plugNic(instance, nic, pid));
      changes.unplugged.push(nic.device);
    };
    const plug = async (nic: Nic) => {
      // A failed plug leaves no pair (createVethNic deletes it); its dnsmasq entry goes here.
      await this.plugNic(instance, nic, pid).catch(async (err: unknown) => {
        await removeNic(nic).catch(() => undefined);
        throw err;
      });
      undo.push(() => removeNic(nic));
      changes.plugged.push(nic.device);
    };
    try {
      // Unplug first what goes or is replaced, so that a new nic may take its interface name.
      for (const old of previous) {
        const now = wanted.find((n) => n.device === old.device);
        if (now && !replugNeeded(old, now)) continue;
        if (await findLink(this.hostNameOf(instance, old.device))) await unplug(old);
        else if (!now) instance.unsetVolatile(hostNameKey(old.device));
      }
      for (const nic of wanted) {
        const old = before.get(nic.device);
        const hostName = this.hostNameOf(instance, nic.device);
        if (!(await findLink(hostName))) {
          await plug(nic);
          continue;
        }
        instance.setVolatile(hostNameKey(nic.device), hostName);
        if (old === undefined || sameLimits(old, nic)) continue;
        const limits = parseNicLimits(nic.spec, `devices["${nic.device}"]`);
        await applyNicLimits(hostName, limits);
        undo.push(() => applyNicLimits(hostName, parseNicLimits(old.spec, `devices["${old.device}"]`)));
        changes.limited.push(nic.device);
      }
    } catch (err) {
      for (const step of undo.reverse()) await step().catch(() => undefined);
      throw err;
    }
    if (undo.length > 0) this.log.info({ instance: instance.name, ...changes }, 'nics updated');
    return async () => {
      for (const step of undo.reverse()) await step().catch((e: Error) => this.log.warn({ instance: instance.name, err: e.message }, 'could not undo a nic change'));
    };
  }

  private macOf(instance: Instance, { device, spec }: Nic): string | undefined {
    return spec.hwaddr ?? instance.snapshot.volatile[`volatile.${device}.hwaddr`];
  }

  private async plugNic(instance: Instance, { device, network, spec }: Nic, pid: number): Promise<void> {
    const key = `volatile.${device}.hwaddr` as const;
    const mac = spec.hwaddr ?? instance.snapshot.volatile[key] ?? generateMac();
    if (!spec.hwaddr) instance.setVolatile(key, mac);
    const hostName = this.hostNameOf(instance, device);
    await this.networks.host.setHost(network, { mac, name: instance.name, ipv4: spec['ipv4.address'] });
    await createVethNic({
      hostName,
      bridge: network,
      netns: { pid },
      name: spec.name ?? device,
      mac,
      mtu: spec.mtu ? Number(spec.mtu) : undefined,
      limits: parseNicLimits(spec, `devices["${device}"]`),
    });
    instance.setVolatile(hostNameKey(device), hostName);
  }

  /**
   * Removes what outlives a container's network namespace (the shaping devices) of every nic, the
   * host ends recorded in volatile included, forgets the `volatile.<dev>.host_name` keys (the
   * caller saves the state) and its init.
   */
  async unplugNics(instance: Instance): Promise<void> {
    this.inits.delete(instance.name);
    const uuid = instance.snapshot.volatile['volatile.uuid'];
    const derived = uuid ? this.nics(instance).map(({ device }) => hostVethName(uuid, device)) : [];
    const recorded = Object.entries(instance.snapshot.volatile).filter(([key]) => HOST_NAME_KEY.test(key));
    for (const hostName of new Set([...derived, ...recorded.map(([, name]) => name)])) await deleteVethNic(hostName).catch(() => undefined);
    for (const [key] of recorded) instance.unsetVolatile(key as `volatile.${string}`);
  }

  /**
   * The host end of the instance's nic `device`: named after its `volatile.uuid` (given here if it
   * has none yet, for the caller to save), not its name, so that instances of the same name under
   * two daemons never take each other's.
   */
  hostNameOf(instance: Instance, device: string): string {
    return hostVethName(instance.ensureUuid(), device);
  }

  /** IPv4 addresses of the instance's nics, from the leases of their networks (LXD's state.network). */
  async addresses(instance: Instance): Promise<Record<string, NicState>> {
    const out: Record<string, NicState> = {};
    for (const { device, network, spec } of this.nics(instance)) {
      const mac = spec.hwaddr ?? instance.snapshot.volatile[`volatile.${device}.hwaddr`];
      if (!mac) continue;
      const leases = await this.networks.host.leases(network).catch(() => []);
      const lease = leases.find((l) => l.mac.toLowerCase() === mac.toLowerCase());
      out[spec.name ?? device] = {
        addresses: lease ? [{ family: 'inet', address: lease.ipv4, netmask: '24', scope: 'global' }] : [],
        hwaddr: mac,
        // LXD's host_name: the host end, as `lxc info` shows it ("Host interface").
        ...(instance.snapshot.volatile[hostNameKey(device)] ? { host_name: instance.snapshot.volatile[hostNameKey(device)] } : {}),
        state: 'up',
        type: 'broadcast',
      };
    }
    return out;
  }

  /**
   * The cgroup writes of the expanded limits, for this host's layout (v1 controllers, or v2). The
   * root disk's I/O limits go to the block device under the pool; when there is none (a dir pool
   * on tmpfs or overlayfs) they are reported as not applicable, not silently dropped. `running` is
   * the cgroup of a running container: throttles it holds from keys removed since are lifted.
   */
  private async cgroupWrites(instance: Instance, running?: string): Promise<{ version: 1 | 2; writes: CgroupWrite[]; notApplicable: AppliedSetting[] }> {
    const quota = parseQuota(instance.expanded.config, this.host, instance.expanded.devices);
    const cpus = quota.cpu?.kind === 'set' ? quota.cpu.cpus : quota.cpu?.kind === 'count' ? this.host.cpus.slice(0, quota.cpu.count) : undefined;
    const version = existsSync(join(CGROUP_ROOT, 'memory', 'cgroup.procs')) ? 1 : 2;
    const io: DiskIoTarget = { weightFile: existsSync(join(CGROUP_ROOT, 'blkio', 'blkio.weight')) ? 'blkio.weight' : 'blkio.bfq.weight' };
    const notApplicable: AppliedSetting[] = [];
    const reset = running !== undefined && (await holdsThrottles(version, running));
    if (hasDiskIoLimits(quota) || reset) {
      const backing = await (await this.pool.get()).blockDevice();
      if (backing.kind === 'device') Object.assign(io, { device: `${backing.major}:${backing.minor}`, reset });
      else {
        for (const [key, rate] of [['limits.read', quota.diskRead], ['limits.write', quota.diskWrite]] as const) {
          if (rate) notApplicable.push({ file: key, requested: `${rate.perSecond}${rate.kind === 'iops' ? 'iops' : ' bytes/s'}`, actual: `not applicable: ${backing.reason}` });
        }
        if (notApplicable.length > 0 && running === undefined) this.log.warn({ instance: instance.name, reason: backing.reason }, 'the disk I/O limits are not applicable on this pool');
      }
    }
    const writes = version === 1 ? cgroupV1Writes(quota, cpus, existsSync(join(CGROUP_ROOT, 'memory', 'memory.memsw.limit_in_bytes')), io) : cgroupV2Writes(quota, cpus, io);
    return { version, writes, notApplicable };
  }

  /**
   * v1's blk-throttle is flat (outside the unified hierarchy a group's throttles do not cover its
   * children), and the container's processes live in init's `payload` child: the throttles go there too.
   */
  private async throttlePayload(cgroup: string, writes: CgroupWrite[]): Promise<void> {
    const throttles = writes.filter((w) => w.file.startsWith('blkio.throttle.'));
    if (throttles.length > 0) await applyCgroupWrites({ version: 1, paths: { blkio: join(CGROUP_ROOT, 'blkio', cgroup.replace(/^\/+/, ''), PAYLOAD) } }, throttles);
  }

  /** Applies the expanded limits to the running container's cgroup and reads them back. */
  async applyLimits(instance: Instance, state: ContainerState): Promise<AppliedSetting[]> {
    const rel = state.cgroup.replace(/^\/+/, '');
    const { version, writes, notApplicable } = await this.cgroupWrites(instance, rel);
    if (version === 1) {
      const target: CgroupTarget = { version: 1, paths: Object.fromEntries(['memory', 'cpu', 'cpuset', 'pids', 'blkio'].map((c) => [c, join(CGROUP_ROOT, c, rel)])) };
      // v1 refuses to shrink a cpuset below a child's: init's `payload` child first, then the container's.
      const cpuset = writes.filter((w) => w.controller === 'cpuset');
      if (cpuset.length > 0) await applyCgroupWrites({ version: 1, paths: { cpuset: join(CGROUP_ROOT, 'cpuset', rel, PAYLOAD) } }, cpuset);
      await this.throttlePayload(rel, writes);
      return [...(await applyCgroupWrites(target, writes)), ...notApplicable];
    }
    return [...(await applyCgroupWrites({ version: 2, path: join(CGROUP_ROOT, rel) }, writes)), ...notApplicable];
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

  /**
   * Freezes (or thaws) every process of a running container through its cgroup's freezer: v1's
   * `freezer.state` (FROZEN/THAWED) on hybrid hosts, cgroup2's `cgroup.freeze` otherwise. The
   * monitor lives in a cgroup of its own and keeps answering. Resolves once the kernel reports
   * the whole subtree frozen (or thawed); a freeze that does not complete within 10 s (a task
   * stuck in uninterruptible sleep) is undone and fails with a FreezeError.
   */
  async freeze(state: ContainerState, frozen: boolean): Promise<void> {
    const rel = state.cgroup.replace(/^\/+/, '');
    const v1 = join(CGROUP_ROOT, 'freezer', rel, 'freezer.state');
    if (state.cgroupLayout === 'hybrid' && existsSync(v1)) {
      const wanted = frozen ? 'FROZEN' : 'THAWED';
      await writeFile(v1, wanted);
      if (await settles(async () => (await readFile(v1, 'utf8')).trim() === wanted)) return;
      await writeFile(v1, 'THAWED').catch(() => undefined);
      throw new FreezeError(state.name, v1);
    }
    const dir = [join(CGROUP_ROOT, 'unified', rel), join(CGROUP_ROOT, rel)].find((d) => existsSync(join(d, 'cgroup.freeze')));
    if (!dir) throw new FreezeError(state.name, join(CGROUP_ROOT, rel));
    await writeFile(join(dir, 'cgroup.freeze'), frozen ? '1' : '0');
    const done = async () => /^frozen (\d)$/m.exec(await readFile(join(dir, 'cgroup.events'), 'utf8'))?.[1] === (frozen ? '1' : '0');
    if (await settles(done)) return;
    await writeFile(join(dir, 'cgroup.freeze'), '0').catch(() => undefined);
    throw new FreezeError(state.name, join(dir, 'cgroup.freeze'));
  }
}

/** The container's processes did not all freeze in time; they were thawed again. */
export class FreezeError extends DomainError {
  readonly code = 'INSTANCE.FREEZE_FAILED';
  constructor(name: string, file: string) {
    super(`The processes of instance "${name}" could not be frozen (${file})`);
  }
}

/** Polls `check` every 20 ms for up to 10 s. */
async function settles(check: () => Promise<boolean>): Promise<boolean> {
  for (let i = 0; i < 500; i++) {
    if (await check()) return true;
    await sleep(20);
  }
  return false;
}

/** Whether a nic changed in a key that needs it plugged again (anything but its limits). */
function replugNeeded(old: Nic, now: Nic): boolean {
  if (old.network !== now.network) return true;
  const keys = new Set([...Object.keys(old.spec), ...Object.keys(now.spec)].filter((k) => !LIVE_NIC_KEYS.has(k)));
  return [...keys].some((k) => old.spec[k] !== now.spec[k]);
}

function sameLimits(old: Nic, now: Nic): boolean {
  return [...LIVE_NIC_KEYS].every((k) => (old.spec[k] ?? '') === (now.spec[k] ?? ''));
}

/** Refuses nic keys that would only fail when the nic is plugged: a bad MAC, MTU or limit. */
function checkNicKeys(device: string, spec: Readonly<Record<string, string>>): void {
  const field = (key: string) => `devices["${device}"]["${key}"]`;
  if (spec.hwaddr !== undefined) parseMac(field('hwaddr'), spec.hwaddr);
  if (spec.mtu !== undefined && !(/^\d{2,5}$/.test(spec.mtu) && Number(spec.mtu) >= 68 && Number(spec.mtu) <= 65535)) {
    throw new ValidationError(field('mtu'), `"${spec.mtu}" is not an MTU from 68 to 65535`);
  }
  parseNicLimits(spec, `devices["${device}"]`);
}

/** Whether the container's cgroup (`rel`) holds I/O throttles: they must be lifted when their keys are gone. */
async function holdsThrottles(version: 1 | 2, rel: string): Promise<boolean> {
  const files =
    version === 1
      ? ['read_bps_device', 'read_iops_device', 'write_bps_device', 'write_iops_device'].map((f) => join(CGROUP_ROOT, 'blkio', rel, `blkio.throttle.${f}`))
      : [join(CGROUP_ROOT, rel, 'io.max')];
  for (const file of files) if ((await readFile(file, 'utf8').catch(() => '')).trim() !== '') return true;
  return false;
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
