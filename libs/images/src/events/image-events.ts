export class ImageCreatedEvent {
  constructor(readonly fingerprint: string) {}
}

export class ImageUpdatedEvent {
  constructor(readonly fingerprint: string) {}
}

export class ImageDeletedEvent {
  constructor(readonly fingerprint: string) {}
}

export class ImageAliasCreatedEvent {
  constructor(readonly name: string) {}
}

export class ImageAliasUpdatedEvent {
  constructor(readonly name: string) {}
}

export class ImageAliasRenamedEvent {
  constructor(readonly oldName: string, readonly name: string) {}
}

export class ImageAliasDeletedEvent {
  constructor(readonly name: string) {}
}
