import { TestHooks } from '#core';
import { CommandHandler, EventPublisher, type ICommandHandler } from '@nestjs/cqrs';
import { InstanceNics } from '#network';
import { Runtime } from '#runtime';
import { DefaultPool } from '#storage';
import { ExecLogs } from '../../infrastructure/exec-logs.js';
import { InstanceRepository } from '../../infrastructure/instance.repository.js';
import { DeleteInstanceCommand } from './delete-instance.command.js';

@CommandHandler(DeleteInstanceCommand)
export class DeleteInstanceHandler implements ICommandHandler<DeleteInstanceCommand> {
  constructor(
    private readonly instances: InstanceRepository,
    private readonly pool: DefaultPool,
    private readonly nics: InstanceNics,
    private readonly runtime: Runtime,
    private readonly execLogs: ExecLogs,
    private readonly publisher: EventPublisher,
    private readonly hooks: TestHooks,
  ) {}

  async execute({ name, force }: DeleteInstanceCommand): Promise<void> {
    // Recorded first: a crash in the middle of the host's cleanup is finished at the next start (Reconciler).
    await this.instances.change(name, async (i) => {
      i.delete(force);
      i.hold('it is being deleted');
      return 'save';
    });
    const instance = await this.instances.change(
      name,
      async (i) => {
        i.delete(force);
        return 'delete';
      },
      {
        afterWrite: async (i) => {
          const pool = await this.pool.get();
          await pool.deleteInstanceVolume(i.name).catch((err: { code?: string }) => {
            if (err.code !== 'STORAGE.VOLUME_NOT_FOUND') throw err;
          });
          await this.hooks.reach('instance-delete.volume-deleted');
          // A static address must be free for the next instance asking for it.
          await this.nics.forget(i.nicHolder());
          // Nothing of it stays under BERTH_DIR: its console log and its recorded exec output.
          await this.runtime.forget(i.name);
          await this.execLogs.remove(i.name);
        },
      },
    );
    this.publisher.mergeObjectContext(instance).commit();
  }
}
