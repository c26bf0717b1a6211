import { createHash } from 'node:crypto';
import { Command, CommandHandler, EventBus, Query, QueryHandler, type ICommandHandler, type IQueryHandler } from '@nestjs/cqrs';
import type { EntityManager } from 'typeorm';
import { AlreadyExistsError, InUseError, isUniqueViolation, NotFoundError, PreconditionFailedError, validateDescription, ValidationError } from '#core';
import { validateNetworkName } from '../domain/names.js';
import { networkSpecOf, validateNetworkConfig } from '../domain/network-config.js';
import type { BridgeState } from '../infrastructure/bridge-state.js';
import { NetworkChangedEvent, NetworkStore } from './network-commands.js';
import { NetworkRecord } from './network.entity.js';

const sorted = (o: Record<string, string>) => Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));

/** Changes whenever anything a client can edit changes (LXD hashes the same fields); sent as ETag, checked against If-Match. */
export function networkEtag(network: { name: string; description: string; config: Record<string, string> }): string {
  return createHash('sha256')
    .update(JSON.stringify([network.name, true, 'bridge', network.description, sorted(network.config)]))
    .digest('hex');
}

function assertEtag(row: NetworkRecord, ifMatch: string | undefined): void {
  if (ifMatch === undefined) return;
  const tags = ifMatch.split(',').map((t) => t.trim().replace(/^W\//, '').replace(/^"|"$/g, ''));
  if (!tags.includes('*') && !tags.includes(networkEtag(row))) {
    throw new PreconditionFailedError(`Network "${row.name}" was changed since it was read (If-Match does not match the current ETag)`);
  }
}

/** Loads the row locked FOR UPDATE: changes to one network are serialized. */
async function lockRow(tx: EntityManager, name: string): Promise<NetworkRecord> {
  const row = await tx.findOne(NetworkRecord, { where: { name }, lock: { mode: 'pessimistic_write' } });
  if (!row) throw new NotFoundError(`Network not found: "${name}"`);
  return row;
}

/** What PUT sends; PATCH sends any subset of it. */
export interface NetworkChanges {
  description?: unknown;
  config?: unknown;
}

/** `replace` is PUT (the config given is the whole config), `merge` is PATCH (keys given replace those keys). */
export class UpdateNetworkCommand extends Command<void> {
  constructor(readonly name: string, readonly mode: 'replace' | 'merge', readonly changes: NetworkChanges, readonly ifMatch?: string) {
    super();
  }
}

/**
 * Validates the new config, applies it to the host live (bridge address and MTU, NAT, dnsmasq),
 * and only then writes the row. A refusal changes nothing; a host failure is rolled back by the
 * host side, and a failure to write the row puts the previous config back on the host.
 */
@CommandHandler(UpdateNetworkCommand)
export class UpdateNetworkHandler implements ICommandHandler<UpdateNetworkCommand> {
  constructor(private readonly store: NetworkStore, private readonly events: EventBus) {}

  async execute({ name, mode, changes, ifMatch }: UpdateNetworkCommand): Promise<void> {
    let restore: (() => Promise<unknown>) | undefined;
    try {
      await this.store.manager.transaction(async (tx) => {
        const row = await lockRow(tx, name);
        assertEtag(row, ifMatch);
        const description = mode === 'replace' || changes.description !== undefined ? validateDescription(changes.description) : row.description;
        const requested = validateNetworkConfig(changes.config);
        let config: Record<string, string> = mode === 'merge' ? { ...row.config, ...requested } : requested;
        const reserved = (await tx.find(NetworkRecord)).filter((r) => r.id !== row.id).map((r) => networkSpecOf(r.name, r.config).gateway.subnet);
        if (config['ipv4.address'] === undefined) {
          throw new ValidationError('config["ipv4.address"]', 'is required: a managed bridge has an IPv4 address (an address with its prefix, or auto for a new subnet)');
        }
        if (config['ipv4.address'] === 'auto') config = await this.store.host.resolveConfig(name, config, reserved);
        const spec = networkSpecOf(name, config);
        if (JSON.stringify(sorted(config)) !== JSON.stringify(sorted(row.config))) {
          await this.store.host.update(spec, reserved);
          const previous = networkSpecOf(row.name, row.config);
          restore = () => this.store.host.update(previous);
        }
        await tx.update(NetworkRecord, { id: row.id }, { description, config, updatedAt: () => 'now()' });
      });
    } catch (err) {
      await restore?.().catch(() => undefined);
      throw err;
    }
    this.events.publish(new NetworkChangedEvent('network-updated', name));
  }
}

export class RenameNetworkCommand extends Command<void> {
  constructor(readonly name: string, readonly newName: unknown) {
    super();
  }
}

/**
 * Renames a network nothing refers to (as LXD, a network an instance or a profile uses is in use:
 * 400), whose new name is free (409): the bridge, its directory, dnsmasq and NAT on the host, then
 * the row. A failure to write the row renames the host side back.
 */
@CommandHandler(RenameNetworkCommand)
export class RenameNetworkHandler implements ICommandHandler<RenameNetworkCommand> {
  constructor(private readonly store: NetworkStore, private readonly events: EventBus) {}

  async execute({ name, newName }: RenameNetworkCommand): Promise<void> {
    if (newName === undefined || newName === null || newName === '') throw new ValidationError('name', 'a new network name is required');
    const to = validateNetworkName('name', newName);
    let renamedOnHost = false;
    try {
      await this.store.manager.transaction(async (tx) => {
        const row = await lockRow(tx, name);
        const users = [...(await this.store.usedBy(name)), ...(await this.store.profilesUsing(name))];
        if (users.length > 0) throw new InUseError(`Network "${name}" is currently in use by: ${users.join(', ')}`, { used_by: users });
        if (await tx.findOneBy(NetworkRecord, { name: to })) throw new AlreadyExistsError(`Network "${to}" already exists`);
        await this.store.host.rename(name, to);
        renamedOnHost = true;
        await tx.update(NetworkRecord, { id: row.id }, { name: to, updatedAt: () => 'now()' });
      });
    } catch (err) {
      if (renamedOnHost) await this.store.host.rename(to, name).catch(() => undefined);
      if (isUniqueViolation(err)) throw new AlreadyExistsError(`Network "${to}" already exists`);
      throw err;
    }
    this.events.publish(new NetworkChangedEvent('network-renamed', to, { old_name: name }));
  }
}

export class GetNetworkStateQuery extends Query<BridgeState> {
  constructor(readonly name: string) {
    super();
  }
}

@QueryHandler(GetNetworkStateQuery)
export class GetNetworkStateHandler implements IQueryHandler<GetNetworkStateQuery> {
  constructor(private readonly store: NetworkStore) {}

  async execute({ name }: GetNetworkStateQuery): Promise<BridgeState> {
    await this.store.record(name);
    return this.store.host.state(name);
  }
}
