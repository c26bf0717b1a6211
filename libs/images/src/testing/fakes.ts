/*
 * Fakes of the ports libs/images' command handlers depend on, for their specs: an image repository
 * in memory that keeps the real one's rules (unique fingerprints and alias names, prefixes, the
 * same errors), an event bus that records, and an operation runner that runs each operation at
 * once and records how it ended. Not exported from the lib's index.
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EventBus } from '@nestjs/cqrs';
import { loadConfig } from '#core';
import type { OperationContext, OperationRunner, OperationView, StartOperation } from '#operations';
import type { AliasView, ImageView } from '../domain/image-record.js';
import { AliasAlreadyExistsError, AliasNotFoundError, AmbiguousFingerprintError, ImageAlreadyExistsError, ImageNotFoundError } from '../domain/image-store.errors.js';
import type { ImportOptions } from '../domain/image-upload.js';
import { ImageFileStore, type ReceivedUpload } from '../infrastructure/image-files.js';
import type { ImageImporter } from '../infrastructure/image-importer.js';
import type { ImageRecord } from '../infrastructure/image.entity.js';
import type { ImageRepository } from '../infrastructure/image.repository.js';

export const fingerprintOf = (seed: string) => seed.padEnd(64, '0').slice(0, 64);

export class InMemoryImages {
  readonly images = new Map<string, ImageRecord>();
  readonly aliases = new Map<string, { imageId: string; description: string }>();
  private lastId = 0;

  /** An image already there, with its aliases. */
  add(fingerprint: string, aliases: string[] = [], fields: Partial<ImageRecord> = {}): ImageRecord {
    const record = this.record(fingerprint, fields);
    for (const name of aliases) this.aliases.set(name, { imageId: record.id, description: '' });
    return record;
  }

  /** Alias name → the fingerprint it points to. */
  aliasTargets(): Record<string, string> {
    const byId = new Map([...this.images.values()].map((image) => [image.id, image.fingerprint]));
    return Object.fromEntries([...this.aliases].map(([name, alias]) => [name, byId.get(alias.imageId) ?? '?']));
  }

  asRepository(): ImageRepository {
    return this as unknown as ImageRepository;
  }

  async resolve(reference: string): Promise<ImageRecord> {
    const found = [...this.images.values()].filter((image) => image.fingerprint.startsWith(reference));
    if (found.length === 0) throw new ImageNotFoundError(reference);
    if (found.length > 1) throw new AmbiguousFingerprintError(reference, found.length);
    return found[0]!;
  }

  async exists(fingerprint: string): Promise<boolean> {
    return this.images.has(fingerprint);
  }

  async fingerprints(): Promise<Set<string>> {
    return new Set(this.images.keys());
  }

  async view(record: ImageRecord): Promise<Pick<ImageView, 'fingerprint' | 'aliases'>> {
    const aliases = [...this.aliases].filter(([, alias]) => alias.imageId === record.id).map(([name, alias]) => ({ name, description: alias.description }));
    return { fingerprint: record.fingerprint, aliases };
  }

  async insert(fields: Omit<ImageRecord, 'id' | 'uploadedAt' | 'lastUsedAt'>, aliases: ReadonlyArray<{ name: string; description: string }>): Promise<ImageRecord> {
    if (this.images.has(fields.fingerprint)) throw new ImageAlreadyExistsError(fields.fingerprint);
    const taken = aliases.find((alias) => this.aliases.has(alias.name));
    if (taken) throw new AliasAlreadyExistsError(taken.name);
    const record = this.record(fields.fingerprint, fields);
    for (const alias of aliases) this.aliases.set(alias.name, { imageId: record.id, description: alias.description });
    return record;
  }

  async update(fingerprint: string, changes: Partial<ImageRecord>): Promise<void> {
    Object.assign(this.images.get(fingerprint)!, changes);
  }

  async delete(id: string): Promise<void> {
    for (const [fingerprint, image] of this.images) if (image.id === id) this.images.delete(fingerprint);
    for (const [name, alias] of this.aliases) if (alias.imageId === id) this.aliases.delete(name);
  }

  async alias(name: string): Promise<AliasView> {
    const alias = this.aliases.get(name);
    if (!alias) throw new AliasNotFoundError(name);
    return { name, description: alias.description, target: this.aliasTargets()[name]!, type: 'container' };
  }

  async createAlias(name: string, imageId: string, description: string): Promise<void> {
    if (this.aliases.has(name)) throw new AliasAlreadyExistsError(name);
    this.aliases.set(name, { imageId, description });
  }

  async updateAlias(name: string, changes: { imageId?: string; description?: string; newName?: string }): Promise<void> {
    const alias = this.aliases.get(name);
    if (!alias) throw new AliasNotFoundError(name);
    if (changes.newName !== undefined && changes.newName !== name && this.aliases.has(changes.newName)) throw new AliasAlreadyExistsError(changes.newName);
    const next = { imageId: changes.imageId ?? alias.imageId, description: changes.description ?? alias.description };
    this.aliases.delete(name);
    this.aliases.set(changes.newName ?? name, next);
  }

  async deleteAlias(name: string): Promise<void> {
    if (!this.aliases.delete(name)) throw new AliasNotFoundError(name);
  }

  private record(fingerprint: string, fields: Partial<ImageRecord>): ImageRecord {
    const record = {
      type: 'container',
      fileKind: 'unified',
      filename: '',
      size: 1,
      architecture: 'x86_64',
      public: false,
      autoUpdate: false,
      cached: false,
      properties: {},
      metadata: {},
      createdAt: new Date(0),
      expiresAt: null,
      uploadedAt: new Date(0),
      lastUsedAt: null,
      ...fields,
      id: String(++this.lastId),
      fingerprint,
    } as ImageRecord;
    this.images.set(fingerprint, record);
    return record;
  }
}

/** An event bus that keeps what was published. */
export function recordingEvents() {
  const published: object[] = [];
  return { published, bus: { publish: (event: object) => published.push(event) } as unknown as EventBus };
}

/** An operation runner that runs each operation to its end inside start(), recording it all. */
export class RecordingOperations {
  readonly started: StartOperation[] = [];
  /** Every ctx.progress() call, in order. */
  readonly progress: Record<string, unknown>[] = [];
  result: unknown;
  error: unknown;

  asRunner(): OperationRunner {
    return this as unknown as OperationRunner;
  }

  async start(spec: StartOperation): Promise<OperationView> {
    this.started.push(spec);
    const ctx: OperationContext = { signal: new AbortController().signal, progress: async (metadata) => void this.progress.push(metadata) };
    try {
      this.result = await spec.run(ctx);
    } catch (error) {
      this.error = error;
    }
    const at = new Date(0).toISOString();
    return { id: `op-${this.started.length}`, class: spec.class ?? 'task', description: spec.description, created_at: at, updated_at: at, status: 'Running', status_code: 103, resources: spec.resources ?? {}, metadata: {}, may_cancel: spec.cancellable ?? false, err: '', location: 'none' };
  }
}

/** A real ImageFileStore on a fresh temporary BERTH_DIR; `left()` lists what its images/ holds. */
export async function scratchImageFiles(prefix: string) {
  const berthDir = await mkdtemp(join(tmpdir(), prefix));
  const files = new ImageFileStore(loadConfig({ BERTH_DIR: berthDir }));
  return {
    berthDir,
    files,
    left: async () => readdir(files.root).catch(() => [] as string[]),
    remove: () => rm(berthDir, { recursive: true, force: true }),
  };
}

/**
 * An importer that records each import, with what `inspect` finds then (the upload is still on
 * disk), and discards the upload where the real one would keep it.
 */
export function recordingImporter<T = undefined>(files: ImageFileStore, inspect: (upload: ReceivedUpload) => Promise<T> = async () => undefined as T) {
  const imported: Array<{ upload: ReceivedUpload; options: ImportOptions; seen: T }> = [];
  const importer = {
    import: async (upload: ReceivedUpload, options: ImportOptions) => {
      imported.push({ upload, options, seen: await inspect(upload) });
      await files.discard(upload);
      return { fingerprint: upload.fingerprint, size: upload.size, warnings: [] };
    },
  } as unknown as ImageImporter;
  return { imported, importer };
}
