import { arch } from 'node:os';
import { Inject } from '@nestjs/common';
import { CommandHandler, EventPublisher, type ICommandHandler } from '@nestjs/cqrs';
import { TestHooks, ValidationError } from '#core';
import { InstanceTemplates } from '#images';
import { InstanceNics, InstanceProxies } from '#network';
import { OperationRunner, type OperationView } from '#operations';
import { HOST_CAPACITY, type HostCapacity } from '#quotas';
import { Instance } from '../../domain/instance.js';
import { DefaultPool, PoolCatalog } from '#storage';
import { checkRootPool } from '../../domain/expanded.js';
import { Admission } from '../../infrastructure/admission.js';
import { ImageResolver } from '../../infrastructure/image-resolver.js';
import { InstanceRepository } from '../../infrastructure/instance.repository.js';
import { ProfileResolver } from '../../infrastructure/profile-resolver.js';
import { CreateInstanceCommand } from './create-instance.command.js';

const ARCHITECTURE: Record<string, string> = { x64: 'x86_64', arm64: 'aarch64' };

/**
 * Validates the whole request and records the instance before answering (bad input never creates
 * an operation; a duplicate name is a 409 at once), then clones its root volume from the image in
 * an operation. If the volume cannot be made, the record goes too: nothing is left. The instance
 * is held while its volume is made, so that a crash in the middle is undone at the next start.
 */
@CommandHandler(CreateInstanceCommand)
export class CreateInstanceHandler implements ICommandHandler<CreateInstanceCommand> {
  constructor(
    private readonly instances: InstanceRepository,
    private readonly profiles: ProfileResolver,
    private readonly operations: OperationRunner,
    private readonly publisher: EventPublisher,
    private readonly admission: Admission,
    private readonly images: ImageResolver,
    private readonly pool: DefaultPool,
    private readonly templates: InstanceTemplates,
    private readonly nics: InstanceNics,
    private readonly proxies: InstanceProxies,
    @Inject(HOST_CAPACITY) private readonly capacity: HostCapacity,
    private readonly hooks: TestHooks,
    private readonly pools: PoolCatalog,
  ) {}

  async execute({ definition, source, start }: CreateInstanceCommand): Promise<OperationView> {
    if (start) throw new ValidationError('start', 'starting on create is not available until the runtime is wired in; create, then start');
    const image = source.type === 'image' ? await this.images.resolve(source) : null;
    const instance = this.publisher.mergeObjectContext(
      Instance.create(
        { ...definition, architecture: image?.architecture ?? ARCHITECTURE[arch()] ?? arch(), imageFingerprint: image?.fingerprint ?? null },
        await this.profiles.load(),
        this.capacity,
      ),
    );
    checkRootPool(instance.expanded.devices, (pool) => this.pools.has(pool));
    // Held until its volume is made: a crash before then leaves an instance the next start deletes (Reconciler).
    instance.hold('it is being created');
    instance.renewCloudInitId(null);
    await this.nics.check(instance.name, instance.expanded.devices, () => this.instances.othersDevices(instance.name));
    this.proxies.check(instance.expanded.devices);
    await this.instances.insert(instance, await this.admission.forInstance(instance));
    return this.operations.start({
      description: 'Creating instance',
      resources: { instances: [`/1.0/instances/${instance.name}`], containers: [`/1.0/containers/${instance.name}`] },
      run: () =>
        this.instances.withLock(instance.name, async () => {
          const pool = await this.pool.get();
          let volume: string | undefined;
          let result: Record<string, unknown> | undefined;
          try {
            if (image) {
              volume = await pool.createInstanceVolume(instance.name, image.fingerprint);
              const templates = await this.templates.render(volume, 'create', instance.templateContext());
              if (templates.skipped.length > 0) result = { templates_skipped: templates.skipped };
            } else volume = await pool.createEmptyInstanceVolume(instance.name);
            await this.hooks.reach('instance-create.volume-made');
          } catch (err) {
            if (volume !== undefined) await pool.deleteInstanceVolume(instance.name);
            await this.instances.removeRecord(instance.name);
            throw err;
          }
          instance.release();
          await this.instances.saveState(instance);
          instance.commit();
          return result;
        }),
    });
  }
}
