import { Command } from '@nestjs/cqrs';

/**
 * Unset keys take LXD's defaults: `ipv4.address=auto` (a free private /24) and `ipv4.nat=true`.
 * `type` is LXD's network type: `bridge` (or unset, as `lxc network create` sends without `--type`).
 */
export class CreateNetworkCommand extends Command<void> {
  constructor(readonly name: unknown, readonly description: unknown, readonly config: unknown, readonly type?: unknown) {
    super();
  }
}
