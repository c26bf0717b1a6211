import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { DATABASE, isUniqueViolation, type Database } from '#core';
import type { AliasView, ImageView } from '../domain/image-record.js';
import { AliasAlreadyExistsError, AliasNotFoundError, AmbiguousFingerprintError, ImageAlreadyExistsError, ImageNotFoundError } from '../domain/image-store.errors.js';
import { ImageAliasRecord, ImageRecord } from './image.entity.js';

const iso = (d: Date | null) => (d ?? new Date(0)).toISOString();

function toView(r: ImageRecord, aliases: ImageAliasRecord[]): ImageView {
  return {
    fingerprint: r.fingerprint,
    type: 'container',
    filename: r.filename,
    size: r.size,
    architecture: r.architecture,
    public: r.public,
    auto_update: r.autoUpdate,
    cached: r.cached,
    properties: r.properties,
    aliases: aliases.map((a) => ({ name: a.name, description: a.description })),
    profiles: ['default'],
    created_at: iso(r.createdAt),
    expires_at: iso(r.expiresAt),
    uploaded_at: iso(r.uploadedAt),
    last_used_at: iso(r.lastUsedAt),
  };
}

const constraintOf = (err: unknown) => (err as { driverError?: { constraint?: string } }).driverError?.constraint;

/** Images and aliases in Postgres. */
@Injectable()
export class ImageRepository {
  constructor(@Inject(DATABASE) private readonly db: Database) {}

  private get manager(): EntityManager {
    return this.db.dataSource.manager;
  }

  private async aliasesOf(ids: string[]): Promise<Map<string, ImageAliasRecord[]>> {
    const rows = ids.length ? await this.manager.createQueryBuilder(ImageAliasRecord, 'a').where('a.image_id IN (:...ids)', { ids }).orderBy('a.name').getMany() : [];
    const map = new Map<string, ImageAliasRecord[]>();
    for (const r of rows) map.set(r.imageId, [...(map.get(r.imageId) ?? []), r]);
    return map;
  }

  async list(): Promise<ImageView[]> {
    const rows = await this.manager.find(ImageRecord, { order: { uploadedAt: 'ASC' } });
    const aliases = await this.aliasesOf(rows.map((r) => r.id));
    return rows.map((r) => toView(r, aliases.get(r.id) ?? []));
  }

  /** A full fingerprint or a unique prefix (LXD accepts prefixes). */
  async resolve(reference: string): Promise<ImageRecord> {
    const rows = await this.manager.createQueryBuilder(ImageRecord, 'i').where('i.fingerprint LIKE :p', { p: `${reference}%` }).limit(2).getMany();
    if (rows.length === 0) throw new ImageNotFoundError(reference);
    if (rows.length > 1) {
      const count = await this.manager.createQueryBuilder(ImageRecord, 'i').where('i.fingerprint LIKE :p', { p: `${reference}%` }).getCount();
      throw new AmbiguousFingerprintError(reference, count);
    }
    return rows[0];
  }

  async view(record: ImageRecord): Promise<ImageView> {
    return toView(record, (await this.aliasesOf([record.id])).get(record.id) ?? []);
  }

  async exists(fingerprint: string): Promise<boolean> {
    return (await this.manager.countBy(ImageRecord, { fingerprint })) > 0;
  }

  /** The fingerprint of every recorded image. */
  async fingerprints(): Promise<Set<string>> {
    const rows = await this.manager.find(ImageRecord, { select: { fingerprint: true } });
    return new Set(rows.map((r) => r.fingerprint));
  }

  async insert(record: Omit<ImageRecord, 'id' | 'uploadedAt' | 'lastUsedAt'>, aliases: ReadonlyArray<{ name: string; description: string }>): Promise<ImageRecord> {
    try {
      return await this.manager.transaction(async (tx) => {
        const { identifiers } = await tx.insert(ImageRecord, record);
        const id = String(identifiers[0].id);
        for (const a of aliases) await tx.insert(ImageAliasRecord, { name: a.name, description: a.description, imageId: id });
        return (await tx.findOneByOrFail(ImageRecord, { id }));
      });
    } catch (err) {
      if (isUniqueViolation(err)) {
        if (constraintOf(err) === 'image_aliases_name_key') {
          const taken = aliases.find((a) => (err as Error).message.includes(a.name))?.name ?? aliases.map((a) => a.name).join(', ');
          throw new AliasAlreadyExistsError(taken);
        }
        throw new ImageAlreadyExistsError(record.fingerprint);
      }
      throw err;
    }
  }

  async update(fingerprint: string, changes: Partial<Pick<ImageRecord, 'public' | 'autoUpdate' | 'properties' | 'expiresAt'>>): Promise<void> {
    await this.manager.update(ImageRecord, { fingerprint }, changes);
  }

  async delete(id: string): Promise<void> {
    await this.manager.delete(ImageRecord, { id });
  }

  async aliases(): Promise<AliasView[]> {
    const rows: Array<{ name: string; description: string; fingerprint: string }> = await this.manager.query(
      'SELECT a.name, a.description, i.fingerprint FROM image_aliases a JOIN images i ON i.id = a.image_id ORDER BY a.name',
    );
    return rows.map((r) => ({ name: r.name, description: r.description, target: r.fingerprint, type: 'container' }));
  }

  async alias(name: string): Promise<AliasView> {
    const [row]: Array<{ name: string; description: string; fingerprint: string }> = await this.manager.query(
      'SELECT a.name, a.description, i.fingerprint FROM image_aliases a JOIN images i ON i.id = a.image_id WHERE a.name = $1',
      [name],
    );
    if (!row) throw new AliasNotFoundError(name);
    return { name: row.name, description: row.description, target: row.fingerprint, type: 'container' };
  }

  async createAlias(name: string, imageId: string, description: string): Promise<void> {
    try {
      await this.manager.insert(ImageAliasRecord, { name, imageId, description });
    } catch (err) {
      if (isUniqueViolation(err)) throw new AliasAlreadyExistsError(name);
      throw err;
    }
  }

  /** Changes an alias' target and/or description; `newName` renames it. */
  async updateAlias(name: string, changes: { imageId?: string; description?: string; newName?: string }): Promise<void> {
    if (changes.imageId === undefined && changes.description === undefined && changes.newName === undefined) {
      await this.alias(name);
      return;
    }
    try {
      const result = await this.manager.update(
        ImageAliasRecord,
        { name },
        {
          ...(changes.imageId !== undefined ? { imageId: changes.imageId } : {}),
          ...(changes.description !== undefined ? { description: changes.description } : {}),
          ...(changes.newName !== undefined ? { name: changes.newName } : {}),
        },
      );
      if (!result.affected) throw new AliasNotFoundError(name);
    } catch (err) {
      if (isUniqueViolation(err)) throw new AliasAlreadyExistsError(changes.newName ?? name);
      throw err;
    }
  }

  async deleteAlias(name: string): Promise<void> {
    const result = await this.manager.delete(ImageAliasRecord, { name });
    if (!result.affected) throw new AliasNotFoundError(name);
  }
}
