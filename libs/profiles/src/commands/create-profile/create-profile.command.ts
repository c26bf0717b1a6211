import { Command } from '@nestjs/cqrs';
import type { ProfileDefinition } from '../../domain/profile.js';

export class CreateProfileCommand extends Command<void> {
  constructor(readonly input: ProfileDefinition) {
    super();
  }
}
