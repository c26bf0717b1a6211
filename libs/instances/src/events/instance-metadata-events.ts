/** metadata.yaml of the instance's volume was replaced (PUT or PATCH /1.0/instances/{name}/metadata). */
export class InstanceMetadataUpdatedEvent {
  constructor(readonly name: string) {}
}

/** A file of the volume's templates/ was created or replaced. */
export class InstanceMetadataTemplateCreatedEvent {
  constructor(readonly name: string, readonly path: string) {}
}

export class InstanceMetadataTemplateDeletedEvent {
  constructor(readonly name: string, readonly path: string) {}
}
