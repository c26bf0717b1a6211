export class ServerConfigUpdatedEvent {
  constructor(readonly keys: readonly string[]) {}
}
