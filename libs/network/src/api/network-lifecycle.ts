import { Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { EventsHandler, type IEventHandler } from '@nestjs/cqrs';
import { Inject } from '@nestjs/common';
import { LOGGER, type Logger } from '#core';
import { EventHub } from '#operations';
import { networkSpecOf } from '../domain/network-config.js';
import { NetworkChangedEvent, NetworkStore } from './network-commands.js';

@EventsHandler(NetworkChangedEvent)
export class NetworkLifecycleHandler implements IEventHandler<NetworkChangedEvent> {
  constructor(private readonly hub: EventHub) {}

  handle(e: NetworkChangedEvent): void {
    this.hub.lifecycle(e.action, `/1.0/networks/${encodeURIComponent(e.name)}`);
  }
}

/** At daemon start every recorded network is brought back (bridge, NAT, dnsmasq adopted or restarted). */
@Injectable()
export class NetworkRestorer implements OnApplicationBootstrap {
  constructor(private readonly store: NetworkStore, @Inject(LOGGER) private readonly log: Logger) {}

  async onApplicationBootstrap(): Promise<void> {
    for (const row of await this.store.records().catch(() => [])) {
      await this.store.host.ensure(networkSpecOf(row.name, row.config)).catch((err) => this.log.error({ network: row.name, err: (err as Error).message }, 'could not restore a network'));
    }
  }
}
