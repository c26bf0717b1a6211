import { mkdir, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { BERTH_CONFIG, LOGGER, ValidationError, type BerthConfig, type Logger } from '#core';
import { fixUpGuest, type FixUpOptions, type MigrationReport } from '../guest/index.js';
import { detectVmSource, extractGuest, extractGuestOverSsh, type ExtractedGuest, type VmSourceKind } from '../sources/index.js';
import type { ImportSource } from '../import/import-source.js';
import type { ImportTools, SourceKind } from '../import/import-tools.js';

/**
 * ImportTools on this host's files, with scratch space and SSH's known hosts under BERTH_DIR. At
 * daemon start, the scratch space of dry runs a crash interrupted is removed (the readers that
 * used it died with the daemon, and their mounts only ever existed in their own namespaces).
 */
@Injectable()
export class HostImportTools implements ImportTools, OnApplicationBootstrap {
  constructor(
    @Inject(BERTH_CONFIG) private readonly config: BerthConfig,
    @Inject(LOGGER) private readonly log: Logger,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const scratch = join(this.config.BERTH_DIR, 'migrate');
    for (const entry of await readdir(scratch).catch(() => [] as string[])) {
      if (!entry.startsWith('dry-run-')) continue;
      await rm(join(scratch, entry), { recursive: true, force: true }).then(
        () => this.log.warn({ path: join(scratch, entry) }, 'removed the scratch space of an interrupted VM import dry run'),
        (err: Error) => this.log.error({ path: join(scratch, entry), err: err.message }, 'could not remove the scratch space of an interrupted dry run'),
      );
    }
  }

  async detect(path: string, declared?: VmSourceKind): Promise<VmSourceKind> {
    try {
      await stat(path);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new ValidationError('source.path', code === 'ENOENT' ? `${path} does not exist` : `${path} cannot be read (${code})`);
    }
    return declared ?? (await detectVmSource(path));
  }

  read(source: ImportSource, kind: SourceKind, into: { target: string; workDir: string }, options: Parameters<ImportTools['read']>[3]): Promise<ExtractedGuest> {
    const common = { target: into.target, signal: options.signal, onProgress: options.onProgress };
    if (source.ssh) return extractGuestOverSsh({ ...common, ssh: source.ssh, knownHosts: join(this.config.BERTH_DIR, 'ssh', 'known_hosts') });
    return extractGuest({ ...common, source: source.path, kind: kind as VmSourceKind, workDir: into.workDir });
  }

  fixUp(rootfs: string, options: FixUpOptions): Promise<MigrationReport> {
    return fixUpGuest(rootfs, options);
  }

  async inScratch<T>(use: (dir: string) => Promise<T>): Promise<T> {
    const scratch = join(this.config.BERTH_DIR, 'migrate');
    await mkdir(scratch, { recursive: true, mode: 0o700 });
    const work = await mkdtemp(join(scratch, 'dry-run-'));
    try {
      return await use(work);
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  }
}
