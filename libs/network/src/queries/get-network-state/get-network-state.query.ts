import { Query } from '@nestjs/cqrs';
import type { BridgeState } from '../../infrastructure/bridge-state.js';

/** The bridge as LXD's network state shows it. */
export class GetNetworkStateQuery extends Query<BridgeState> {
  constructor(readonly name: string) {
    super();
  }
}
