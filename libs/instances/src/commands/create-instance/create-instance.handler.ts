import { arch } from 'node:os';
import { join } from 'node:path';
import { Inject } from '@nestjs/common';
import { CommandHandler, EventPublisher, type ICommandHandler } from '@nestjs/cqrs';
import { ValidationError } from '#core';
import { InstanceTemplates } from '#images';
import { InstanceNics, InstanceProxies } from '#network';
import { OperationRunner, type OperationContext, type OperationView } from '#operations';
import { HOST_CAPACITY, type HostCapacity } from '#quotas';
import { Instance, type ResolvedProfiles } from '../../domain/instance.js';
import { parseSource } from '../../domain/source.js';
import { DefaultPool } from '#storage';
import { Admission } from '../../infrastructure/admission.js';
import { ImageResolver } from '../../infrastructure/image-resolver.js';
import { InstanceRepository } from '../../infrastructure/instance.repository.js';
import { ProfileResolver } from '../../infrastructure/profile-resolver.js';
import { CreateInstanceCommand, type PopulateVolume } from './create-instance.command.js';

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
    private readonly templates: InstanceTemplates,
    private readonly nics: InstanceNics,
    private readonly proxies: InstanceProxies,
    @Inject(HOST_CAPACITY) private readonly capacity: HostCapacity,
  ) {}

  async execute({ body, populate }: CreateInstanceCommand): Promise<OperationView> {
    const source = populate ? ({ type: 'none' } as const) : parseSource(body.source);
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
        this.capacity,
      ),
    );
    await this.nics.check(instance.name, instance.expanded.devices, await this.instances.othersDevices(instance.name));
    this.proxies.check(instance.expanded.devices);
    await this.instances.insert(instance, await this.admission.forInstance(instance));
    return this.operations.start({
      description: 'Creating instance',
      resources: { instances: [`/1.0/instances/${instance.name}`], containers: [`/1.0/containers/${instance.name}`] },
      run: (ctx) =>
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
            if (populate) result = await this.populate(instance, join(pool.instanceVolumePath(instance.name), 'rootfs'), populate, resolve, ctx);
          } catch (err) {
            if (volume !== undefined) await pool.deleteInstanceVolume(instance.name);
            await this.instances.removeRecord(instance.name);
            throw err;
          }
          instance.commit();
          return result;
        }),
    });
  }
  /**
   * Lets another context fill the volume, then takes the device settings it asks for when they
   * pass the checks any device change passes (a reservation held by another instance does not).
   */
  private async populate(
    instance: Instance,
    rootfs: string,
    populate: PopulateVolume,
    resolve: (names: string[]) => ResolvedProfiles,
    ctx: OperationContext,
  ): Promise<Record<string, unknown>> {
    const filled = await populate({
      rootfs,
      instance: { name: instance.name, expandedDevices: instance.expanded.devices },
      signal: ctx.signal,
      progress: (metadata) => ctx.progress(metadata),
    });
    if (!filled.devices || Object.keys(filled.devices).length === 0) return filled.finish({});
    const own = instance.state.devices;
    const devices = { ...own };
    for (const [name, keys] of Object.entries(filled.devices)) devices[name] = { ...(own[name] ?? instance.expanded.devices[name] ?? {}), ...keys };
    try {
      instance.update('merge', { devices }, resolve, this.capacity);
      await this.nics.check(instance.name, instance.expanded.devices, await this.instances.othersDevices(instance.name));
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      instance.update('replace', { ...instance.state, devices: own }, resolve, this.capacity);
      return filled.finish({ refused: err.message });
    }
    await this.instances.saveDefinition(instance);
    return filled.finish({});
  }
}
