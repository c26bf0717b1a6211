import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { InstanceMetadataStore } from '#images';
import { InstanceVolumes } from '../../infrastructure/instance-volume.js';
import { GetInstanceTemplateQuery } from './get-instance-template.query.js';

@QueryHandler(GetInstanceTemplateQuery)
export class GetInstanceTemplateHandler implements IQueryHandler<GetInstanceTemplateQuery> {
  constructor(
    private readonly volumes: InstanceVolumes,
    private readonly store: InstanceMetadataStore,
  ) {}

  async execute({ name, path }: GetInstanceTemplateQuery): Promise<{ kind: 'list'; names: string[] } | { kind: 'file'; content: Buffer }> {
    const volume = await this.volumes.path(name);
    if (path === undefined || path === '') return { kind: 'list', names: await this.store.listTemplates(volume) };
    return { kind: 'file', content: await this.store.readTemplate(volume, path) };
  }
}
