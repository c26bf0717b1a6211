export class ProfileCreatedEvent {
  constructor(readonly name: string) {}
}

export class ProfileUpdatedEvent {
  constructor(readonly name: string) {}
}

export class ProfileRenamedEvent {
  constructor(readonly oldName: string, readonly name: string) {}
}

export class ProfileDeletedEvent {
  constructor(readonly name: string) {}
}
