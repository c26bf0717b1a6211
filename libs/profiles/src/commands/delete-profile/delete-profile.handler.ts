import { CommandHandler, EventPublisher, type ICommandHandler } from '@nestjs/cqrs';
import { ProfileUsage } from '../../domain/profile-usage.js';
import { ProfileRepository } from '../../infrastructure/profile.repository.js';
import { DeleteProfileCommand } from './delete-profile.command.js';

@CommandHandler(DeleteProfileCommand)
export class DeleteProfileHandler implements ICommandHandler<DeleteProfileCommand> {
  constructor(private readonly profiles: ProfileRepository, private readonly usage: ProfileUsage, private readonly publisher: EventPublisher) {}

  async execute({ name }: DeleteProfileCommand): Promise<void> {
    const profile = await this.profiles.change(name, async (p) => {
      p.delete(await this.usage.usedBy(p.name));
      return 'delete';
    });
    this.publisher.mergeObjectContext(profile).commit();
  }
}
