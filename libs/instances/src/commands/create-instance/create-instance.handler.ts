import { arch } from 'node:os';
import { Inject } from '@nestjs/common';
import { CommandHandler, EventPublisher, type ICommandHandler } from '@nestjs/cqrs';
import { ValidationError } from '#core';
import { OperationRunner, type OperationView } from '#operations';
import { HOST_CAPACITY, type HostCapacity } from '#quotas';
import { Instance } from '../../domain/instance.js';
import { parseSource } from '../../domain/source.js';
import { DefaultPool } from '#storage';
import { Admission } from '../../infrastructure/admission.js';
import { ImageResolver } from '../../infrastructure/image-resolver.js';
import { ContainerHost } from '../../infrastructure/container-host.js';
import { InstanceRepository } from '../../infrastructure/instance.repository.js';
import { ProfileResolver } from '../../infrastructure/profile-resolver.js';
import { CreateInstanceCommand } from './create-instance.command.js';

const ARCHITECTURE: Record<string, string> = { x64: 'x86_64', arm64: 'aarch64' };

/**
 * Validates the whole request and records the instance before answering (bad input never creates
 * an operation; a duplicate name is a 409 at once), then clones its root volume from the image in
 * an operation. If the volume cannot be made, the record goes too: nothing is left.
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
    private readonly containers: ContainerHost,
    @Inject(HOST_CAPACITY) private readonly host: HostCapacity,
  ) {}

  async execute({ body }: CreateInstanceCommand): Promise<OperationView> {
    const source = parseSource(body.source);
    if (body.start !== undefined && body.start !== false) throw new ValidationError('start', 'starting on create is not available until the runtime is wired in; create, then start');
    const image = source.type === 'image' ? await this.images.resolve(source) : null;
    const resolve = await this.profiles.load();
    const instance = this.publisher.mergeObjectContext(
      Instance.create(
        {
          name: body.name,
          architecture: image?.architecture ?? ARCHITECTURE[arch()] ?? arch(),
          imageFingerprint: image?.fingerprint ?? null,
          description: body.description,
          config: body.config,
          devices: body.devices,
          profiles: body.profiles,
          ephemeral: body.ephemeral,
        },
        resolve,
        this.host,
      ),
    );
    await this.containers.checkNetworks(instance);
    await this.instances.insert(instance, await this.admission.forInstance(instance));
    return this.operations.start({
      description: 'Creating instance',
      resources: { instances: [`/1.0/instances/${instance.name}`], containers: [`/1.0/containers/${instance.name}`] },
      run: () =>
        this.instances.withLock(instance.name, async () => {
          try {
            const pool = await this.pool.get();
            if (image) await pool.createInstanceVolume(instance.name, image.fingerprint);
            else await pool.createEmptyInstanceVolume(instance.name);
          } catch (err) {
            await this.instances.removeRecord(instance.name);
            throw err;
          }
          instance.commit();
        }),
    });
  }
}
