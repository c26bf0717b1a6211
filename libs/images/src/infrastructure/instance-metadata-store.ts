import type { Readable } from 'node:stream';
import { Injectable } from '@nestjs/common';
import { NotFoundError, ValidationError } from '#core';
import { GuestRoot } from '#runtime';
import { apiMetadataFromYaml, emptyApiMetadata, metadataYamlFromApi, validateTemplateName, type ApiImageMetadata } from '../domain/instance-metadata.js';
import { MAX_TEMPLATE_BYTES } from '../domain/template-renderer.js';

export class TemplateNotFoundError extends NotFoundError {
  constructor(name: string) {
    super(`Template "${name}" not found`);
  }
}

/**
 * The image metadata of an instance's root volume (LXD's container_edit_metadata): metadata.yaml
 * and the files of templates/, beside rootfs/ where the container cannot reach them. These are
 * the files `applyImageTemplates` renders from, so an edit here shows at the next create, copy
 * or start. Every access goes through GuestRoot rooted at the volume (openat2 RESOLVE_IN_ROOT,
 * no magic links; writes are atomic renames that replace a symlink rather than follow it), and
 * a template is a plain file name inside templates/, which must be a real directory.
 */
@Injectable()
export class InstanceMetadataStore {
  /** metadata.yaml as LXD's api.ImageMetadata; an empty one when the volume has none. */
  async read(volume: string): Promise<ApiImageMetadata> {
    const top = this.open(volume);
    const stat = await top.lstatIfExists('metadata.yaml');
    if (stat === null) return emptyApiMetadata();
    if (stat.type !== 'file') throw new ValidationError('metadata.yaml', 'is not a regular file in the instance volume');
    return apiMetadataFromYaml(await top.readText('metadata.yaml', { maxBytes: MAX_TEMPLATE_BYTES }));
  }

  /** Validates `body` (api.ImageMetadata as JSON) and replaces metadata.yaml; nothing is written when it is refused. */
  async write(volume: string, body: unknown): Promise<ApiImageMetadata> {
    const { yaml, metadata } = metadataYamlFromApi(body);
    await this.open(volume).writeFile('metadata.yaml', yaml, { mode: 0o644 });
    return metadata;
  }

  /** The template `name` names, which must exist (in a templates/ that is a directory): its name, path and kind. */
  private async existingTemplate(top: GuestRoot, name: string | undefined) {
    const template = validateTemplateName(name);
    const file = `templates/${template}`;
    if (!(await this.templatesDirectory(top, false))) throw new TemplateNotFoundError(template);
    const stat = await top.lstatIfExists(file);
    if (stat === null) throw new TemplateNotFoundError(template);
    return { template, file, stat };
  }

  /** The names of the regular files in templates/ (sorted); none when there is no templates/. */
  async listTemplates(volume: string): Promise<string[]> {
    const top = this.open(volume);
    if (!(await this.templatesDirectory(top, false))) return [];
    return (await top.readdir('templates')).filter((e) => e.type === 'file').map((e) => e.name);
  }

  async readTemplate(volume: string, name: string | undefined): Promise<Buffer> {
    const top = this.open(volume);
    const { template, file, stat } = await this.existingTemplate(top, name);
    if (stat.type !== 'file') throw new ValidationError('path', `template "${template}" is not a regular file`);
    return top.readFile(file, { maxBytes: MAX_TEMPLATE_BYTES });
  }

  /** Creates or replaces a template (0644), creating templates/ (0755) when missing; `content` is read up to the renderer's cap. */
  async writeTemplate(volume: string, name: string | undefined, content: Readable): Promise<void> {
    const template = validateTemplateName(name);
    const file = `templates/${template}`;
    const bytes = await readCapped(content, MAX_TEMPLATE_BYTES);
    const top = this.open(volume);
    await this.templatesDirectory(top, true);
    const existing = await top.lstatIfExists(file);
    if (existing?.type === 'directory') throw new ValidationError('path', `template "${template}" is a directory`);
    await top.writeFile(file, bytes, { mode: 0o644 });
  }

  async deleteTemplate(volume: string, name: string | undefined): Promise<void> {
    const top = this.open(volume);
    const { template, file, stat } = await this.existingTemplate(top, name);
    if (stat.type === 'directory') throw new ValidationError('path', `template "${template}" is a directory`);
    await top.unlink(file);
  }

  private open(volume: string): GuestRoot {
    return new GuestRoot(volume);
  }

  /** Whether templates/ exists (made when `create`); anything but a real directory there is refused. */
  private async templatesDirectory(top: GuestRoot, create: boolean): Promise<boolean> {
    const stat = await top.lstatIfExists('templates');
    if (stat?.type === 'directory') return true;
    if (stat !== null) throw new ValidationError('templates', 'is not a directory in the instance volume');
    if (!create) return false;
    await top.mkdir('templates', { mode: 0o755 });
    return true;
  }
}

/* An oversized body is still read to its end (and dropped), so that the client gets the 400. */
async function readCapped(body: Readable, max: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    size += bytes.length;
    if (size <= max) chunks.push(bytes);
  }
  if (size > max) throw new ValidationError('body', `a template must be at most ${max} bytes`);
  return Buffer.concat(chunks);
}
