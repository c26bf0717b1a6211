export class InstanceCreatedEvent {
  constructor(readonly name: string) {}
}

export class InstanceUpdatedEvent {
  constructor(readonly name: string) {}
}

export class InstanceRenamedEvent {
  constructor(readonly oldName: string, readonly name: string) {}
}

export class InstanceDeletedEvent {
  constructor(readonly name: string) {}
}
