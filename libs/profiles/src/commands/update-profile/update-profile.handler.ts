import { Inject } from '@nestjs/common';
import { CommandHandler, EventPublisher, type ICommandHandler } from '@nestjs/cqrs';
import { HOST_CAPACITY, type HostCapacity } from '#quotas';
import { ProfileRepository } from '../../infrastructure/profile.repository.js';
import { UpdateProfileCommand } from './update-profile.command.js';

@CommandHandler(UpdateProfileCommand)
export class UpdateProfileHandler implements ICommandHandler<UpdateProfileCommand> {
  constructor(
    private readonly profiles: ProfileRepository,
    private readonly publisher: EventPublisher,
    @Inject(HOST_CAPACITY) private readonly capacity: HostCapacity,
  ) {}

  async execute({ name, mode, changes, ifMatch }: UpdateProfileCommand): Promise<void> {
    const profile = await this.profiles.change(name, async (p) => {
      p.assertEtag(ifMatch);
      if (mode === 'replace') p.replace(changes, this.capacity);
      else p.patch(changes, this.capacity);
      return 'save';
    });
    this.publisher.mergeObjectContext(profile).commit();
  }
}
