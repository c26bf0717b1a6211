import { randomUUID } from 'node:crypto';
import { constants } from 'node:fs';
import { mkdir, open, readFile, rm, unlink, writeFile } from 'node:fs/promises';
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

  /** Drops every recorded output of the instance: it is being deleted. */
  async remove(instance: string): Promise<void> {
    await rm(join(this.root, instance), { recursive: true, force: true });
  }

  /** Reads one recorded file. */
  async read(instance: string, file: string): Promise<Buffer> {
    try {
      return await readFile(this.path(instance, file));
    } catch {
      throw new NotFoundError(`Log file not found: "${file}"`);
    }
  }

  /** Removes one recorded file, as LXD's clients (pylxd) do once they have read it. */
  async delete(instance: string, file: string): Promise<void> {
    try {
      await unlink(this.path(instance, file));
    } catch {
      throw new NotFoundError(`Log file not found: "${file}"`);
    }
  }

  /** The name is checked, so no path leaves the log directory. */
  private path(instance: string, file: string): string {
    if (!/^exec_[0-9a-f-]{36}\.(stdout|stderr)$/.test(file)) throw new NotFoundError(`Log file not found: "${file}"`);
    return join(this.root, instance, 'exec-output', file);
  }
}

/**
 * An instance's console output as its monitor writes it: `$BERTH_DIR/containers/<name>/console.log`
 * (and `console.log.1`, the part before the last rotation). Both are opened without following
 * symlinks, so nothing but those files can be read or cleared.
 */
@Injectable()
export class ConsoleLogs {
  private readonly root: string;

  constructor(@Inject(BERTH_CONFIG) config: BerthConfig) {
    this.root = join(config.BERTH_DIR, 'containers');
  }

  /** The rotated part, then the current one; empty when the instance never ran. */
  async read(instance: string): Promise<Buffer> {
    const parts = await Promise.all(['console.log.1', 'console.log'].map((file) => this.readFile(instance, file)));
    return Buffer.concat(parts);
  }

  /** Empties the log (the monitor keeps appending to the same file). */
  async clear(instance: string): Promise<void> {
    await rm(this.path(instance, 'console.log.1'), { force: true });
    let handle;
    try {
      handle = await open(this.path(instance, 'console.log'), constants.O_WRONLY | constants.O_NOFOLLOW);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    try {
      await handle.truncate(0);
    } finally {
      await handle.close();
    }
  }

  private async readFile(instance: string, file: string): Promise<Buffer> {
    let handle;
    try {
      handle = await open(this.path(instance, file), constants.O_RDONLY | constants.O_NOFOLLOW);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return Buffer.alloc(0);
      throw err;
    }
    try {
      return await handle.readFile();
    } finally {
      await handle.close();
    }
  }

  private path(instance: string, file: string): string {
    if (!/^[A-Za-z0-9-]{1,63}$/.test(instance)) throw new NotFoundError(`Instance not found: "${instance}"`);
    return join(this.root, instance, file);
  }
}
