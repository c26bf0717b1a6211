import { CommandHandler, EventBus, type ICommandHandler } from '@nestjs/cqrs';
import { BridgeNetworks } from '../../bridge-networks.js';
import { NetworkInUseError } from '../../domain/network.errors.js';
import { NetworkChangedEvent } from '../../events/network-changed.event.js';
import { NetworkRepository } from '../../infrastructure/network.repository.js';
import { NetworkUsage } from '../../infrastructure/network-usage.js';
import { DeleteNetworkCommand } from './delete-network.command.js';

/** Refuses a network an instance uses (400, naming them); removes it from the host, then its row. */
@CommandHandler(DeleteNetworkCommand)
export class DeleteNetworkHandler implements ICommandHandler<DeleteNetworkCommand> {
  constructor(
    private readonly networks: NetworkRepository,
    private readonly bridges: BridgeNetworks,
    private readonly usage: NetworkUsage,
    private readonly events: EventBus,
  ) {}

  async execute({ name }: DeleteNetworkCommand): Promise<void> {
    await this.networks.get(name);
    const users = await this.usage.instances(name);
    if (users.length > 0) throw new NetworkInUseError(name, users);
    await this.bridges.delete(name);
    await this.networks.delete(name);
    this.events.publish(new NetworkChangedEvent('network-deleted', name));
  }
}
