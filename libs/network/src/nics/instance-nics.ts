import { Inject, Injectable } from '@nestjs/common';
import { LOGGER, ValidationError, type Logger } from '#core';
import { BridgeNetworks } from '../bridge-networks.js';
import { parseNicLimits } from '../domain/bit-rate.js';
import { parseIpv4, subnetContains } from '../domain/ipv4.js';
import { generateMac } from '../domain/mac.js';
import { hostVethName } from '../domain/names.js';
import { networkSpecOf } from '../domain/network-config.js';
import {
  assignMacs,
  checkNicKeys,
  forgetHostNames,
  hostNameKey,
  hwaddrKey,
  macOf,
  nicsOf,
  recordedHostNames,
  replugNeeded,
  sameLimits,
  VolatileDraft,
  type Devices,
  type Nic,
  type NicHolder,
  type NicState,
  type VolatileChanges,
} from '../domain/nics.js';
import { findLink } from '../infrastructure/iproute.js';
import { NetworkRepository } from '../infrastructure/network.repository.js';
import { applyNicLimits } from '../infrastructure/traffic-shaper.js';
import { attachVethNic, createVethNic, deleteVethNic } from '../infrastructure/veth.js';

/**
 * An instance's nics on the host: a veth pair per managed nic (host end on the network's bridge,
 * named after the instance's uuid; container end named, addressed and limited inside), its
 * reservation in the network's dnsmasq, and the nic rules checked before anything is recorded.
 * Takes an instance as primitives and answers the volatile keys to record, for the caller to keep.
 */
@Injectable()
export class InstanceNics {
  constructor(
    private readonly networks: NetworkRepository,
    private readonly bridges: BridgeNetworks,
    @Inject(LOGGER) private readonly log: Logger,
  ) {}

  /** The managed nics of expanded devices: `type=nic` with `network=` (or `parent=`). */
  nics(devices: Devices): Nic[] {
    return nicsOf(devices);
  }

  /**
   * Refuses (a ValidationError naming the device and key) a nic on a network that does not exist,
   * a bad MAC, MTU or limit, and a static `ipv4.address` outside the network's subnet, equal to its
   * gateway, or reserved by one of `others` (the other instances, with their expanded devices).
   */
  async check(name: string, devices: Devices, others: () => Promise<ReadonlyArray<{ name: string; devices: Devices }>>): Promise<void> {
    const records = new Map((await this.networks.list()).map((r) => [r.name, r]));
    let holders: ReadonlyArray<{ name: string; devices: Devices }> | undefined;
    for (const { device, network, spec } of nicsOf(devices)) {
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
      holders ??= await others(); // read only when a static address asks for it
      const holder = holders.find((o) => o.name !== name && nicsOf(o.devices).some((n) => n.network === network && n.spec['ipv4.address'] === wanted));
      if (holder) throw new ValidationError(field, `${wanted} is already reserved by instance "${holder.name}"`);
    }
  }

  /**
   * A `volatile.<dev>.hwaddr` for every nic without `hwaddr` and without one yet, to record before
   * the nics are plugged, so that a nic keeps its MAC (and its DHCP lease) for the instance's life.
   */
  assignMacs(devices: Devices, volatile: Readonly<Record<string, string>>): VolatileChanges {
    return assignMacs(devices, volatile);
  }

  /**
   * Plugs every nic into the network namespace of init `pid`: its dnsmasq host entry, then a veth
   * pair whose host end joins the bridge, with the nic's limits. Answers the MACs given (to nics
   * that had none) and the `volatile.<dev>.host_name` of each plugged nic.
   */
  async plug(holder: NicHolder, pid: number): Promise<VolatileChanges> {
    const draft = new VolatileDraft(holder.volatile);
    await this.forgettingNewMacs(holder, draft, async () => {
      for (const nic of nicsOf(holder.devices)) await this.plugNic(holder, nic, pid, draft);
    });
    return draft.changes();
  }

  /**
   * Brings the nics to init `pid` after a reboot from inside, or when adopting a running container:
   * plugs every nic that is not in init's network namespace (same name, the MAC kept in volatile,
   * the same reservation) and joins host ends that lost their bridge to it again. Nics in place are
   * left alone. Answers the devices it plugged, and the volatile keys to record.
   */
  async replug(holder: NicHolder, pid: number): Promise<{ plugged: string[]; volatile: VolatileChanges }> {
    const draft = new VolatileDraft(holder.volatile);
    const plugged: string[] = [];
    await this.forgettingNewMacs(holder, draft, async () => {
      for (const nic of nicsOf(holder.devices)) {
        const hostName = hostVethName(holder.uuid, nic.device);
        const inside = await findLink(nic.spec.name ?? nic.device, { pid });
        if (inside?.kind === 'veth') {
          const host = await findLink(hostName);
          if (host && host.master !== nic.network) await attachVethNic(hostName, nic.network);
          if (host) draft.set(hostNameKey(nic.device), hostName);
          continue;
        }
        // The previous init's namespace may not be torn down yet: its pair would hold the host end's name.
        await deleteVethNic(hostName);
        await this.plugNic(holder, nic, pid, draft);
        plugged.push(nic.device);
      }
    });
    return { plugged, volatile: draft.changes() };
  }

  /**
   * Makes the nics plugged into a running instance (those of the `previous` devices) match
   * `holder.devices` (hotplug, like `lxc config device add|remove`): a nic whose host end is
   * missing is plugged; one that changed in a key other than its limits is plugged again; one
   * whose limits changed gets them on its host end, live; one no longer wanted is unplugged and
   * its dnsmasq host entry removed. All or nothing: on a failure, what this call did is undone
   * before the error is rethrown. Answers the volatile keys to record, and the function that undoes
   * it all (when a later step of the change fails).
   */
  async sync(holder: NicHolder, pid: number, previous: Devices): Promise<{ volatile: VolatileChanges; undo(): Promise<void> }> {
    const draft = new VolatileDraft(holder.volatile);
    const hostName = (device: string) => hostVethName(holder.uuid, device);
    const before = nicsOf(previous);
    const wanted = nicsOf(holder.devices);
    const undo: Array<() => Promise<unknown>> = [];
    const changes: Record<'plugged' | 'unplugged' | 'limited', string[]> = { plugged: [], unplugged: [], limited: [] };
    const removeNic = async (nic: Nic) => {
      await deleteVethNic(hostName(nic.device));
      draft.unset(hostNameKey(nic.device));
      const mac = macOf(nic, draft.values);
      if (mac) await this.bridges.removeHost(nic.network, mac);
    };
    const unplug = async (nic: Nic) => {
      await removeNic(nic);
      undo.push(() => this.plugNic(holder, nic, pid, draft));
      changes.unplugged.push(nic.device);
    };
    const plug = async (nic: Nic) => {
      // A failed plug leaves no pair (createVethNic deletes it); its dnsmasq entry goes here.
      await this.plugNic(holder, nic, pid, draft).catch(async (err: unknown) => {
        await removeNic(nic).catch(() => undefined);
        throw err;
      });
      undo.push(() => removeNic(nic));
      changes.plugged.push(nic.device);
    };
    try {
      // Unplug first what goes or is replaced, so that a new nic may take its interface name.
      for (const old of before) {
        const now = wanted.find((n) => n.device === old.device);
        if (now && !replugNeeded(old, now)) continue;
        if (await findLink(hostName(old.device))) await unplug(old);
        else if (!now) draft.unset(hostNameKey(old.device));
      }
      for (const nic of wanted) {
        const old = before.find((n) => n.device === nic.device);
        if (!(await findLink(hostName(nic.device)))) {
          await plug(nic);
          continue;
        }
        draft.set(hostNameKey(nic.device), hostName(nic.device));
        if (old === undefined || sameLimits(old, nic)) continue;
        await applyNicLimits(hostName(nic.device), parseNicLimits(nic.spec, `devices["${nic.device}"]`));
        undo.push(() => applyNicLimits(hostName(old.device), parseNicLimits(old.spec, `devices["${old.device}"]`)));
        changes.limited.push(nic.device);
      }
    } catch (err) {
      for (const step of undo.reverse()) await step().catch(() => undefined);
      throw err;
    }
    if (undo.length > 0) this.log.info({ instance: holder.name, ...changes }, 'nics updated');
    return {
      volatile: draft.changes(),
      undo: async () => {
        for (const step of undo.reverse()) await step().catch((e: Error) => this.log.warn({ instance: holder.name, err: e.message }, 'could not undo a nic change'));
      },
    };
  }

  /**
   * Removes what outlives a container's network namespace (the shaping devices) of every nic, the
   * host ends named after the uuid and those recorded in volatile; answers the recorded
   * `volatile.<dev>.host_name` keys, unset. An empty `uuid` (never started) names no host end.
   */
  async unplug(holder: NicHolder): Promise<VolatileChanges> {
    const derived = holder.uuid ? nicsOf(holder.devices).map(({ device }) => hostVethName(holder.uuid, device)) : [];
    const recorded = recordedHostNames(holder.volatile).map(([, name]) => name);
    for (const hostName of new Set([...derived, ...recorded])) await deleteVethNic(hostName).catch(() => undefined);
    return forgetHostNames(holder.volatile);
  }

  /** Forgets the holder's DHCP reservations (its nics' MACs) on their networks: the instance is going away. */
  async forget(holder: NicHolder): Promise<void> {
    for (const nic of nicsOf(holder.devices)) {
      const mac = macOf(nic, holder.volatile);
      if (mac) await this.bridges.removeHost(nic.network, mac).catch(() => undefined);
    }
  }

  /** The holder's nics as its state shows them, by name inside: IPv4 addresses from their networks' leases (LXD's state.network). */
  async addresses(holder: NicHolder): Promise<Record<string, NicState>> {
    const out: Record<string, NicState> = {};
    for (const nic of nicsOf(holder.devices)) {
      const mac = macOf(nic, holder.volatile);
      if (!mac) continue;
      const leases = await this.bridges.leases(nic.network).catch(() => []);
      const lease = leases.find((l) => l.mac.toLowerCase() === mac.toLowerCase());
      const hostName = holder.volatile[hostNameKey(nic.device)];
      out[nic.spec.name ?? nic.device] = {
        addresses: lease ? [{ family: 'inet', address: lease.ipv4, netmask: '24', scope: 'global' }] : [],
        hwaddr: mac,
        // LXD's host_name: the host end, as `lxc info` shows it ("Host interface").
        ...(hostName ? { host_name: hostName } : {}),
        state: 'up',
        type: 'broadcast',
      };
    }
    return out;
  }

  /** One nic: its MAC (from `hwaddr`, volatile, or given now), its dnsmasq host entry, its veth pair. */
  private async plugNic(holder: NicHolder, nic: Nic, pid: number, draft: VolatileDraft): Promise<void> {
    const { device, network, spec } = nic;
    const mac = macOf(nic, draft.values) ?? generateMac();
    if (!spec.hwaddr) draft.set(hwaddrKey(device), mac);
    const hostName = hostVethName(holder.uuid, device);
    await this.bridges.setHost(network, { mac, name: holder.name, ipv4: spec['ipv4.address'] });
    await createVethNic({
      hostName,
      bridge: network,
      netns: { pid },
      name: spec.name ?? device,
      mac,
      mtu: spec.mtu ? Number(spec.mtu) : undefined,
      limits: parseNicLimits(spec, `devices["${device}"]`),
    });
    draft.set(hostNameKey(device), hostName);
  }

  /**
   * Runs `plugging`; when it fails, the caller gets no volatile keys to record, so the dnsmasq host
   * entries of MACs given during the call (nics that had none) are removed before the error is
   * rethrown: nothing would remember them. Nics with a recorded MAC keep theirs, as before.
   */
  private async forgettingNewMacs(holder: NicHolder, draft: VolatileDraft, plugging: () => Promise<void>): Promise<void> {
    try {
      await plugging();
    } catch (err) {
      for (const nic of nicsOf(holder.devices)) {
        const given = draft.values[hwaddrKey(nic.device)];
        if (given !== undefined && holder.volatile[hwaddrKey(nic.device)] === undefined) await this.bridges.removeHost(nic.network, given).catch(() => undefined);
      }
      throw err;
    }
  }
}
