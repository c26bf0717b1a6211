import { Injectable } from '@nestjs/common';
import { BridgeNetworks } from '../bridge-networks.js';
import type { NetworkRecord } from '../infrastructure/network.entity.js';
import { NetworkUsage } from '../infrastructure/network-usage.js';

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

/** A network's row as the API shows it: its status on the host and the instances that use it. */
@Injectable()
export class NetworkViews {
  constructor(private readonly bridges: BridgeNetworks, private readonly usage: NetworkUsage) {}

  async view(row: NetworkRecord): Promise<NetworkView> {
    const state = await this.bridges.inspect(row.name).catch(() => undefined);
    return {
      name: row.name,
      description: row.description,
      type: 'bridge',
      managed: true,
      status: state?.bridge.exists && state.dnsmasqPid !== undefined ? 'Created' : 'Errored',
      config: row.config,
      used_by: await this.usage.instances(row.name),
      locations: ['none'],
    };
  }
}
