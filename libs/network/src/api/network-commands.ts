import { Inject, Injectable } from '@nestjs/common';
import { Command, CommandHandler, EventBus, Query, QueryHandler, type ICommandHandler, type IQueryHandler } from '@nestjs/cqrs';
import { AlreadyExistsError, BERTH_CONFIG, DATABASE, InUseError, isUniqueViolation, NotFoundError, validateDescription, type BerthConfig, type Database } from '#core';
import { BridgeNetworks } from '../bridge-networks.js';
import { validateNetworkName } from '../domain/names.js';
import { networkSpecOf, validateNetworkConfig } from '../domain/network-config.js';
import type { Lease } from '../domain/leases.js';
import { NetworkRecord } from './network.entity.js';

/** LXD's api.Network. */
export interface NetworkView {
  name: string;
  description: string;
  type: 'bridge';
  managed: true;
  status: 'Created' | 'Errored';
  config: Record<string, string>;
  used_by: string[];
  locations: string[];
}

export class NetworkChangedEvent {
  constructor(
    readonly action: 'network-created' | 'network-updated' | 'network-renamed' | 'network-deleted',
    readonly name: string,
    readonly context: Record<string, unknown> = {},
  ) {}
}

/**
 * Networks in Postgres and on the host. The row is written only once the bridge, NAT and dnsmasq
 * are up, and removed only after they are gone; a failure on the host changes no row.
 */
@Injectable()
export class NetworkStore {
  readonly host: BridgeNetworks;

  constructor(@Inject(DATABASE) private readonly db: Database, @Inject(BERTH_CONFIG) config: BerthConfig) {
    this.host = new BridgeNetworks({ berthDir: config.BERTH_DIR });
  }

  async records(): Promise<NetworkRecord[]> {
    return this.db.dataSource.manager.find(NetworkRecord, { order: { name: 'ASC' } });
  }

  async record(name: string): Promise<NetworkRecord> {
    const row = await this.db.dataSource.manager.findOneBy(NetworkRecord, { name });
    if (!row) throw new NotFoundError(`Network not found: "${name}"`);
    return row;
  }

  /** `/1.0/instances/<name>` of each instance whose expanded devices use the network. */
  async usedBy(name: string): Promise<string[]> {
    const rows: Array<{ name: string }> = await this.db.dataSource.manager.query(
      `SELECT DISTINCT i.name FROM instances i
         LEFT JOIN instance_profiles ip ON ip.instance_id = i.id LEFT JOIN profiles p ON p.id = ip.profile_id
        WHERE EXISTS (SELECT 1 FROM jsonb_each(i.devices) d WHERE d.value->>'type' = 'nic' AND (d.value->>'network' = $1 OR d.value->>'parent' = $1))
           OR EXISTS (SELECT 1 FROM jsonb_each(p.devices) d WHERE d.value->>'type' = 'nic' AND (d.value->>'network' = $1 OR d.value->>'parent' = $1))
        ORDER BY i.name`,
      [name],
    );
    return rows.map((r) => `/1.0/instances/${encodeURIComponent(r.name)}`);
  }

  /** `/1.0/profiles/<name>` of each profile with a nic on the network. */
  async profilesUsing(name: string): Promise<string[]> {
    const rows: Array<{ name: string }> = await this.db.dataSource.manager.query(
      `SELECT p.name FROM profiles p
        WHERE EXISTS (SELECT 1 FROM jsonb_each(p.devices) d WHERE d.value->>'type' = 'nic' AND (d.value->>'network' = $1 OR d.value->>'parent' = $1))
        ORDER BY p.name`,
      [name],
    );
    return rows.map((r) => `/1.0/profiles/${encodeURIComponent(r.name)}`);
  }

  async view(row: NetworkRecord): Promise<NetworkView> {
    const state = await this.host.inspect(row.name).catch(() => undefined);
    return {
      name: row.name,
      description: row.description,
      type: 'bridge',
      managed: true,
      status: state?.bridge.exists && state.dnsmasqPid !== undefined ? 'Created' : 'Errored',
      config: row.config,
      used_by: await this.usedBy(row.name),
      locations: ['none'],
    };
  }

  get manager() {
    return this.db.dataSource.manager;
  }
}

export class CreateNetworkCommand extends Command<void> {
  constructor(readonly name: unknown, readonly description: unknown, readonly config: unknown) {
    super();
  }
}

@CommandHandler(CreateNetworkCommand)
export class CreateNetworkHandler implements ICommandHandler<CreateNetworkCommand> {
  constructor(private readonly store: NetworkStore, private readonly events: EventBus) {}

  async execute(cmd: CreateNetworkCommand): Promise<void> {
    const name = validateNetworkName('name', cmd.name);
    const description = validateDescription(cmd.description);
    validateNetworkConfig(cmd.config);
    if (await this.store.manager.findOneBy(NetworkRecord, { name })) throw new AlreadyExistsError(`Network "${name}" already exists`);
    const reserved = (await this.store.records()).map((r) => networkSpecOf(r.name, r.config).gateway.subnet);
    const config = await this.store.host.resolveConfig(name, { 'ipv4.address': 'auto', 'ipv4.nat': 'true', ...(cmd.config as object) }, reserved);
    await this.store.host.create(networkSpecOf(name, config));
    try {
      await this.store.manager.insert(NetworkRecord, { name, type: 'bridge', description, config });
    } catch (err) {
      await this.store.host.delete(name);
      if (isUniqueViolation(err)) throw new AlreadyExistsError(`Network "${name}" already exists`);
      throw err;
    }
    this.events.publish(new NetworkChangedEvent('network-created', name));
  }
}

export class DeleteNetworkCommand extends Command<void> {
  constructor(readonly name: string) {
    super();
  }
}

@CommandHandler(DeleteNetworkCommand)
export class DeleteNetworkHandler implements ICommandHandler<DeleteNetworkCommand> {
  constructor(private readonly store: NetworkStore, private readonly events: EventBus) {}

  async execute({ name }: DeleteNetworkCommand): Promise<void> {
    const row = await this.store.record(name);
    const users = await this.store.usedBy(name);
    if (users.length > 0) throw new InUseError(`Network "${name}" is currently in use by: ${users.join(', ')}`, { used_by: users });
    await this.store.host.delete(name);
    await this.store.manager.delete(NetworkRecord, { id: row.id });
    this.events.publish(new NetworkChangedEvent('network-deleted', name));
  }
}

export class ListNetworksQuery extends Query<string[] | NetworkView[]> {
  constructor(readonly recursion: 0 | 1) {
    super();
  }
}

@QueryHandler(ListNetworksQuery)
export class ListNetworksHandler implements IQueryHandler<ListNetworksQuery> {
  constructor(private readonly store: NetworkStore) {}

  async execute({ recursion }: ListNetworksQuery): Promise<string[] | NetworkView[]> {
    const rows = await this.store.records();
    return recursion === 0 ? rows.map((r) => `/1.0/networks/${encodeURIComponent(r.name)}`) : Promise.all(rows.map((r) => this.store.view(r)));
  }
}

export class GetNetworkQuery extends Query<NetworkView> {
  constructor(readonly name: string) {
    super();
  }
}

@QueryHandler(GetNetworkQuery)
export class GetNetworkHandler implements IQueryHandler<GetNetworkQuery> {
  constructor(private readonly store: NetworkStore) {}

  async execute({ name }: GetNetworkQuery): Promise<NetworkView> {
    return this.store.view(await this.store.record(name));
  }
}

/** LXD's api.NetworkLease. */
export interface LeaseView {
  hostname: string;
  hwaddr: string;
  address: string;
  type: 'dynamic' | 'static';
  location: string;
}

export class ListNetworkLeasesQuery extends Query<LeaseView[]> {
  constructor(readonly name: string) {
    super();
  }
}

@QueryHandler(ListNetworkLeasesQuery)
export class ListNetworkLeasesHandler implements IQueryHandler<ListNetworkLeasesQuery> {
  constructor(private readonly store: NetworkStore) {}

  async execute({ name }: ListNetworkLeasesQuery): Promise<LeaseView[]> {
    await this.store.record(name);
    const leases: Lease[] = await this.store.host.leases(name);
    return leases.map((l) => ({ hostname: l.hostname ?? '', hwaddr: l.mac, address: l.ipv4, type: 'dynamic', location: 'none' }));
  }
}
