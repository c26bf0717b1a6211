import { Inject } from '@nestjs/common';
import { CommandHandler, EventPublisher, type ICommandHandler } from '@nestjs/cqrs';
import { Profile } from '../../domain/profile.js';
import { HOST_CAPACITY, type HostCapacity } from '#quotas';
import { ProfileRepository } from '../../infrastructure/profile.repository.js';
import { CreateProfileCommand } from './create-profile.command.js';

@CommandHandler(CreateProfileCommand)
export class CreateProfileHandler implements ICommandHandler<CreateProfileCommand> {
  constructor(
    private readonly profiles: ProfileRepository,
    private readonly publisher: EventPublisher,
    @Inject(HOST_CAPACITY) private readonly capacity: HostCapacity,
  ) {}

  async execute({ input }: CreateProfileCommand): Promise<void> {
    const profile = this.publisher.mergeObjectContext(Profile.create(input, this.capacity));
    await this.profiles.insert(profile);
    profile.commit();
  }
}
