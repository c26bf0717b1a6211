import { CommandHandler, EventBus, type ICommandHandler } from '@nestjs/cqrs';
import { AlreadyExistsError, validateDescription } from '#core';
import { BridgeNetworks } from '../../bridge-networks.js';
import { validateNetworkName } from '../../domain/names.js';
import { validateNetworkType } from '../../domain/network-type.js';
import { networkSpecOf, validateNetworkConfig } from '../../domain/network-config.js';
import { NetworkChangedEvent } from '../../events/network-changed.event.js';
import { NetworkRepository } from '../../infrastructure/network.repository.js';
import { CreateNetworkCommand } from './create-network.command.js';

/**
 * The row is written only once the bridge, NAT and dnsmasq are up; a failure on the host writes
 * no row, and a failure to write the row (a name taken meanwhile) removes the network from the host.
 */
@CommandHandler(CreateNetworkCommand)
export class CreateNetworkHandler implements ICommandHandler<CreateNetworkCommand> {
  constructor(private readonly networks: NetworkRepository, private readonly bridges: BridgeNetworks, private readonly events: EventBus) {}

  async execute(cmd: CreateNetworkCommand): Promise<void> {
    const name = validateNetworkName('name', cmd.name);
    const description = validateDescription(cmd.description);
    validateNetworkType(cmd.type);
    validateNetworkConfig(cmd.config);
    if (await this.networks.exists(name)) throw new AlreadyExistsError(`Network "${name}" already exists`);
    const reserved = (await this.networks.list()).map((r) => networkSpecOf(r.name, r.config).gateway.subnet);
    const config = await this.bridges.resolveConfig(name, { 'ipv4.address': 'auto', 'ipv4.nat': 'true', ...(cmd.config as object) }, reserved);
    await this.bridges.create(networkSpecOf(name, config));
    try {
      await this.networks.insert({ name, description, config });
    } catch (err) {
      await this.bridges.delete(name);
      throw err;
    }
    this.events.publish(new NetworkChangedEvent('network-created', name));
  }
}
