import { Command } from '@nestjs/cqrs';
import type { ProfileChanges } from '../../domain/profile.js';

export class CreateProfileCommand extends Command<void> {
  constructor(readonly input: { name: unknown } & ProfileChanges) {
    super();
  }
}
