import { Injectable } from '@nestjs/common';
import type { TemplateTrigger } from '../domain/image-metadata.js';
import { applyImageTemplates, type TemplateInstance, type TemplateReport } from './image-templates.js';

/** The image's metadata templates rendered into an instance's root volume, as a port other contexts are given. */
@Injectable()
export class InstanceTemplates {
  render(volume: string, trigger: TemplateTrigger, instance: TemplateInstance): Promise<TemplateReport> {
    return applyImageTemplates(volume, trigger, instance);
  }
}
