/** A network was created, updated, renamed (`context.old_name`) or deleted: `/1.0/events` lifecycle listeners see it. */
export class NetworkChangedEvent {
  constructor(
    readonly action: 'network-created' | 'network-updated' | 'network-renamed' | 'network-deleted',
    readonly name: string,
    readonly context: Readonly<Record<string, unknown>> = {},
  ) {}
}
