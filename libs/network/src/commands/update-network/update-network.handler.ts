import { CommandHandler, EventBus, type ICommandHandler } from '@nestjs/cqrs';
import { validateDescription, ValidationError } from '#core';
import { BridgeNetworks } from '../../bridge-networks.js';
import { assertEtag, sameConfig } from '../../domain/network-etag.js';
import { networkSpecOf, validateNetworkConfig } from '../../domain/network-config.js';
import { NetworkChangedEvent } from '../../events/network-changed.event.js';
import { NetworkRepository } from '../../infrastructure/network.repository.js';
import { UpdateNetworkCommand } from './update-network.command.js';

/**
 * Validates the new config, applies it to the host live (bridge address and MTU, NAT, dnsmasq),
 * and only then writes the row. A refusal changes nothing; a host failure is rolled back by the
 * host side, and a failure to write the row puts the previous config back on the host.
 */
@CommandHandler(UpdateNetworkCommand)
export class UpdateNetworkHandler implements ICommandHandler<UpdateNetworkCommand> {
  constructor(private readonly networks: NetworkRepository, private readonly bridges: BridgeNetworks, private readonly events: EventBus) {}

  async execute({ name, mode, changes, ifMatch }: UpdateNetworkCommand): Promise<void> {
    let restore: (() => Promise<unknown>) | undefined;
    try {
      await this.networks.change(name, async (row, others) => {
        assertEtag(row, ifMatch);
        const description = mode === 'replace' || changes.description !== undefined ? validateDescription(changes.description) : row.description;
        const requested = validateNetworkConfig(changes.config);
        // Merged before validation, so that a key given as "" unsets the row's key.
        let config: Record<string, string> = mode === 'merge' ? validateNetworkConfig({ ...row.config, ...(changes.config as object | undefined) }) : requested;
        const reserved = others.map((r) => networkSpecOf(r.name, r.config).gateway.subnet);
        if (config['ipv4.address'] === undefined) {
          throw new ValidationError('config["ipv4.address"]', 'is required: a managed bridge has an IPv4 address (an address with its prefix, or auto for a new subnet)');
        }
        if (config['ipv4.address'] === 'auto') config = await this.bridges.resolveConfig(name, config, reserved);
        if (!sameConfig(config, row.config)) {
          await this.bridges.update(networkSpecOf(name, config), reserved);
          const previous = networkSpecOf(row.name, row.config);
          restore = () => this.bridges.update(previous);
        }
        return { description, config };
      });
    } catch (err) {
      await restore?.().catch(() => undefined);
      throw err;
    }
    this.events.publish(new NetworkChangedEvent('network-updated', name));
  }
}
