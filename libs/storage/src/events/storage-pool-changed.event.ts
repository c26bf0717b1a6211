/** A pool's description or user keys changed: `/1.0/events` lifecycle listeners see `storage-pool-updated`. */
export class StoragePoolUpdatedEvent {
  constructor(readonly name: string) {}
}
