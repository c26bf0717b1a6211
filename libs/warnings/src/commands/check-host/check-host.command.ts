import { Command } from '@nestjs/cqrs';
import type { CheckOutcome } from '../../infrastructure/warning.repository.js';

/** Runs the host checks and records what they find: new and repeated conditions, and those gone (resolved). */
export class CheckHostCommand extends Command<CheckOutcome> {}
