/*
 * Fakes of the network context's ports for the specs of its handlers and services: rows in memory,
 * a host that records what it was asked and fails on demand, fixed users, a recording event bus.
 * Not exported from the lib's index.
 */
import type { EventBus } from '@nestjs/cqrs';
import type { BridgeNetworks } from '../bridge-networks.js';
import type { Lease } from '../domain/leases.js';
import { formatInterfaceAddress, type Subnet } from '../domain/ipv4.js';
import type { NetworkSpec } from '../domain/network-config.js';
import type { HostReservation } from '../domain/reservation.js';
import type { NetworkChangedEvent } from '../events/network-changed.event.js';
import type { NetworkRecord } from '../infrastructure/network.entity.js';
import type { NetworkFields, NetworkRepository } from '../infrastructure/network.repository.js';
import type { NetworkUsage } from '../infrastructure/network-usage.js';
import { AlreadyExistsError, NotFoundError } from '#core';

/** The `networks` rows in memory; `failWrites` makes the next writes fail as the database would. */
export class FakeNetworkRepository {
  rows: NetworkRecord[];
  failWrites: Error | undefined;

  constructor(rows: Array<Pick<NetworkRecord, 'name' | 'config'> & Partial<NetworkRecord>>) {
    this.rows = rows.map((r, i) => ({ id: String(i + 1), type: 'bridge', description: '', createdAt: new Date(0), updatedAt: new Date(0), ...r }));
  }

  get port(): NetworkRepository {
    return this as unknown as NetworkRepository;
  }

  row(name: string): NetworkRecord | undefined {
    return this.rows.find((r) => r.name === name);
  }

  async list(): Promise<NetworkRecord[]> {
    return [...this.rows].sort((a, b) => (a.name < b.name ? -1 : 1)).map((r) => ({ ...r }));
  }

  async get(name: string): Promise<NetworkRecord> {
    const row = this.row(name);
    if (!row) throw new NotFoundError(`Network not found: "${name}"`);
    return { ...row };
  }

  async exists(name: string): Promise<boolean> {
    return this.row(name) !== undefined;
  }

  async insert(fields: NetworkFields): Promise<void> {
    if (this.failWrites) throw this.failWrites;
    if (this.row(fields.name)) throw new AlreadyExistsError(`Network "${fields.name}" already exists`);
    this.rows.push({ id: String(this.rows.length + 1), type: 'bridge', createdAt: new Date(0), updatedAt: new Date(0), ...fields });
  }

  async delete(name: string): Promise<void> {
    if (this.failWrites) throw this.failWrites;
    this.rows = this.rows.filter((r) => r.name !== name);
  }

  /** As the transaction does: nothing is written unless `change` and the write both succeed. */
  async change(name: string, change: (row: NetworkRecord, others: NetworkRecord[]) => Promise<Partial<NetworkFields>>): Promise<void> {
    const row = await this.get(name);
    const fields = await change(row, (await this.list()).filter((r) => r.id !== row.id));
    if (this.failWrites) throw this.failWrites;
    Object.assign(this.row(name)!, fields);
  }
}

type HostStep = 'create' | 'update' | 'rename' | 'delete';

/**
 * The host side: what it was asked, in order (`create web 10.1.0.1/24`, `update web ...`,
 * `rename a b`, `delete web`), failing with `failures[step]` on that step's next call.
 */
export class FakeBridgeNetworks {
  readonly calls: string[] = [];
  readonly failures: Partial<Record<HostStep, Error>> = {};
  /** The `reserved` subnets of the last resolveConfig or update call. */
  reserved: readonly Subnet[] = [];
  /** dnsmasq host entries by network, then by MAC. */
  readonly hosts = new Map<string, Map<string, HostReservation>>();
  leasesOf: Record<string, Lease[]> = {};

  get port(): BridgeNetworks {
    return this as unknown as BridgeNetworks;
  }

  private step(step: HostStep, detail: string): void {
    const failure = this.failures[step];
    if (failure) {
      delete this.failures[step];
      throw failure;
    }
    this.calls.push(`${step} ${detail}`);
  }

  /** `auto` becomes 10.99.0.1/24 (the choice of a free subnet is BridgeNetworks' own, tested there). */
  async resolveConfig(_name: string, config: Record<string, string>, reserved: readonly Subnet[] = []): Promise<Record<string, string>> {
    this.reserved = reserved;
    return config['ipv4.address'] === 'auto' ? { ...config, 'ipv4.address': '10.99.0.1/24' } : { ...config };
  }

  async create(spec: NetworkSpec): Promise<void> {
    this.step('create', `${spec.name} ${formatInterfaceAddress(spec.gateway)}`);
  }

  async update(spec: NetworkSpec, reserved: readonly Subnet[] = []): Promise<void> {
    this.reserved = reserved;
    this.step('update', `${spec.name} ${formatInterfaceAddress(spec.gateway)}`);
  }

  async rename(from: string, to: string): Promise<void> {
    this.step('rename', `${from} ${to}`);
  }

  async delete(name: string): Promise<void> {
    this.step('delete', name);
  }

  async setHost(network: string, reservation: HostReservation): Promise<void> {
    this.hosts.set(network, new Map([...(this.hosts.get(network) ?? []), [reservation.mac, reservation]]));
  }

  async removeHost(network: string, mac: string): Promise<void> {
    this.calls.push(`removeHost ${network} ${mac}`);
    this.hosts.get(network)?.delete(mac);
  }

  async leases(network: string): Promise<Lease[]> {
    return this.leasesOf[network] ?? [];
  }
}

/** Who uses each network: instances' and profiles' API paths, as the other contexts would answer. */
function fixedUsage(instances: Record<string, string[]> = {}, profiles: Record<string, string[]> = {}): NetworkUsage {
  return {
    instances: async (network: string) => instances[network] ?? [],
    profiles: async (network: string) => profiles[network] ?? [],
  } as unknown as NetworkUsage;
}

/** Keeps what was published. */
class RecordingEventBus {
  readonly published: NetworkChangedEvent[] = [];

  get port(): EventBus {
    return this as unknown as EventBus;
  }

  publish(event: NetworkChangedEvent): void {
    this.published.push(event);
  }
}

/** The ports of a network handler: rows, host, who uses each network, and the event bus. */
export function networkFixture(
  rows: ConstructorParameters<typeof FakeNetworkRepository>[0],
  users: { instances?: Record<string, string[]>; profiles?: Record<string, string[]> } = {},
) {
  return { networks: new FakeNetworkRepository(rows), host: new FakeBridgeNetworks(), usage: fixedUsage(users.instances, users.profiles), events: new RecordingEventBus() };
}
