import { CommandHandler, EventPublisher, type ICommandHandler } from '@nestjs/cqrs';
import { ProfileRepository } from '../../infrastructure/profile.repository.js';
import { RenameProfileCommand } from './rename-profile.command.js';

@CommandHandler(RenameProfileCommand)
export class RenameProfileHandler implements ICommandHandler<RenameProfileCommand> {
  constructor(private readonly profiles: ProfileRepository, private readonly publisher: EventPublisher) {}

  async execute({ name, newName }: RenameProfileCommand): Promise<void> {
    const profile = await this.profiles.change(name, async (p) => {
      p.rename(newName);
      return 'save';
    });
    this.publisher.mergeObjectContext(profile).commit();
  }
}
