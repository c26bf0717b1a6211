import { randomUUID } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Inject, Injectable } from '@nestjs/common';
import { BERTH_CONFIG, NotFoundError, type BerthConfig } from '#core';

/** Recorded exec output: `$BERTH_DIR/logs/<instance>/exec-output/<id>.stdout|stderr`. */
@Injectable()
export class ExecLogs {
  private readonly root: string;

  constructor(@Inject(BERTH_CONFIG) config: BerthConfig) {
    this.root = join(config.BERTH_DIR, 'logs');
  }

  /** Stores both streams; returns their API paths as LXD's `output` map (`1`, `2`). */
  async record(instance: string, stdout: string, stderr: string): Promise<Record<string, string>> {
    const id = `exec_${randomUUID()}`;
    const dir = join(this.root, instance, 'exec-output');
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await writeFile(join(dir, `${id}.stdout`), stdout, { mode: 0o600 });
    await writeFile(join(dir, `${id}.stderr`), stderr, { mode: 0o600 });
    const base = `/1.0/instances/${encodeURIComponent(instance)}/logs/exec-output`;
    return { '1': `${base}/${id}.stdout`, '2': `${base}/${id}.stderr` };
  }

  /** Reads one recorded file; the name is checked, so no path leaves the log directory. */
  async read(instance: string, file: string): Promise<Buffer> {
    if (!/^exec_[0-9a-f-]{36}\.(stdout|stderr)$/.test(file)) throw new NotFoundError(`Log file not found: "${file}"`);
    try {
      return await readFile(join(this.root, instance, 'exec-output', file));
    } catch {
      throw new NotFoundError(`Log file not found: "${file}"`);
    }
  }
}
