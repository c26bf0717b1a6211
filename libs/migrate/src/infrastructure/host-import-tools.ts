import { mkdir, mkdtemp, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Inject, Injectable } from '@nestjs/common';
import { BERTH_CONFIG, ValidationError, type BerthConfig } from '#core';
import { fixUpGuest, type FixUpOptions, type MigrationReport } from '../guest/index.js';
import { detectVmSource, extractGuest, extractGuestOverSsh, type ExtractedGuest, type VmSourceKind } from '../sources/index.js';
import type { ImportSource } from '../import/import-source.js';
import type { ImportTools, SourceKind } from '../import/import-tools.js';

/** ImportTools on this host's files, with scratch space and SSH's known hosts under BERTH_DIR. */
@Injectable()
export class HostImportTools implements ImportTools {
  constructor(@Inject(BERTH_CONFIG) private readonly config: BerthConfig) {}

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
