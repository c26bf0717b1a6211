import { CommandHandler, EventBus, type ICommandHandler } from '@nestjs/cqrs';
import { AlreadyExistsError, ValidationError } from '#core';
import { BridgeNetworks } from '../../bridge-networks.js';
import { validateNetworkName } from '../../domain/names.js';
import { NetworkInUseError } from '../../domain/network.errors.js';
import { NetworkChangedEvent } from '../../events/network-changed.event.js';
import { NetworkRepository } from '../../infrastructure/network.repository.js';
import { NetworkUsage } from '../../infrastructure/network-usage.js';
import { RenameNetworkCommand } from './rename-network.command.js';

/**
 * Renames a network nothing refers to (as LXD, a network an instance or a profile uses is in use:
 * 400), whose new name is free (409): the bridge, its directory, dnsmasq and NAT on the host, then
 * the row. A failure to write the row renames the host side back.
 */
@CommandHandler(RenameNetworkCommand)
export class RenameNetworkHandler implements ICommandHandler<RenameNetworkCommand> {
  constructor(
    private readonly networks: NetworkRepository,
    private readonly bridges: BridgeNetworks,
    private readonly usage: NetworkUsage,
    private readonly events: EventBus,
  ) {}

  async execute({ name, newName }: RenameNetworkCommand): Promise<void> {
    if (newName === undefined || newName === null || newName === '') throw new ValidationError('name', 'a new network name is required');
    const to = validateNetworkName('name', newName);
    let renamedOnHost = false;
    try {
      await this.networks.change(name, async (_row, others) => {
        const users = [...(await this.usage.instances(name)), ...(await this.usage.profiles(name))];
        if (users.length > 0) throw new NetworkInUseError(name, users);
        if (to === name || others.some((o) => o.name === to)) throw new AlreadyExistsError(`Network "${to}" already exists`);
        await this.bridges.rename(name, to);
        renamedOnHost = true;
        return { name: to };
      });
    } catch (err) {
      if (renamedOnHost) await this.bridges.rename(to, name).catch(() => undefined);
      throw err;
    }
    this.events.publish(new NetworkChangedEvent('network-renamed', to, { old_name: name }));
  }
}
