// Helpers shared by the storage suites: temporary BERTH_DIRs, what is left on the host under one,
// and a command runner that makes one chosen step fail.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CommandFailure, runCommand, type CommandRunner } from '../../libs/storage/src/infrastructure/command-runner.js';

export const exec = promisify(execFile);

export async function tempBerthDir(label: string): Promise<string> {
  return mkdtemp(join(tmpdir(), `berth-storage-${label}-`));
}

export async function mountsUnder(dir: string): Promise<string[]> {
  const text = await readFile('/proc/self/mountinfo', 'utf8');
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => line.split(' ')[4].replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))))
    .filter((mountPoint) => mountPoint === dir || mountPoint.startsWith(`${dir}/`));
}

/** Loop devices whose backing file is under `dir`, from `losetup --list --json`. */
export async function loopDevicesUnder(dir: string): Promise<string[]> {
  const { stdout } = await exec('losetup', ['--list', '--json', '--output', 'NAME,BACK-FILE']);
  if (!stdout.trim()) return [];
  const list = JSON.parse(stdout) as { loopdevices: Array<{ name: string; 'back-file': string | null }> };
  return list.loopdevices.filter((d) => d['back-file']?.startsWith(`${dir}/`)).map((d) => `${d.name} ${d['back-file']}`);
}

/** Every path under `dir` (files and directories), relative to it. */
export async function entriesUnder(dir: string): Promise<string[]> {
  return (await readdir(dir, { recursive: true })).sort();
}

/** Nothing of any pool remains: no mount, no loop device, no file or directory under `dir`. */
export async function assertNothingLeft(dir: string): Promise<void> {
  assert.deepEqual(await mountsUnder(dir), [], 'no mount under the BERTH_DIR');
  assert.deepEqual(await loopDevicesUnder(dir), [], 'no loop device backed by a file under the BERTH_DIR');
  assert.deepEqual(await entriesUnder(dir), [], 'no file or directory under the BERTH_DIR');
}

/** Last-resort cleanup after a failed test, so one failure does not leak loop devices into the next. */
export async function forceCleanup(dir: string): Promise<void> {
  for (const mountPoint of (await mountsUnder(dir)).reverse()) await exec('umount', ['-l', mountPoint]).catch(() => undefined);
  for (const device of await loopDevicesUnder(dir)) await exec('losetup', ['--detach', device.split(' ')[0]]).catch(() => undefined);
  await rm(dir, { recursive: true, force: true });
}

export interface InjectedFailure {
  command: string;
  /** The step is picked when every one of these is among its arguments. */
  args?: readonly string[];
  /**
   * `before`: the step never runs. `after`: it runs (its effects stay) and then reports failure.
   * `missing`: the tool is not installed (spawn's ENOENT).
   */
  when: 'before' | 'after' | 'missing';
}

/** The real runner, except that the chosen step fails as a host tool would; counts how often it hit. */
export function failingRunner(failure: InjectedFailure): CommandRunner & { hits: number } {
  const runner = Object.assign(
    async (command: string, args: readonly string[]) => {
      const picked = command === failure.command && (failure.args ?? []).every((a) => args.includes(a));
      if (!picked) return runCommand(command, args);
      runner.hits++;
      if (failure.when === 'missing') throw new CommandFailure(command, null, `spawn ${command} ENOENT`, 'ENOENT');
      if (failure.when === 'after') await runCommand(command, args);
      throw new CommandFailure([command, ...args].join(' '), 1, `${command}: injected failure (${failure.when} running)`);
    },
    { hits: 0 },
  );
  return runner;
}

export function hasCode(code: string) {
  return (error: unknown) => {
    assert.equal((error as { code?: string }).code, code, `expected ${code}, got ${String(error)}`);
    return true;
  };
}

export async function timed<T>(work: () => Promise<T>): Promise<{ result: T; ms: number }> {
  const start = performance.now();
  const result = await work();
  return { result, ms: performance.now() - start };
}

/** Fills `target` with a copy of host files (cp -a of each source into it). */
export async function fillFrom(target: string, sources: string[]): Promise<void> {
  for (const source of sources) await exec('cp', ['-a', source, target]);
}

/** Bytes in a tree as du counts apparent sizes. */
export async function apparentBytes(path: string): Promise<number> {
  const { stdout } = await exec('du', ['-sb', path]);
  return Number(stdout.split('\t')[0]);
}

/** Relative path and size of every regular file, to compare two trees without reading them. */
export async function treeSignature(root: string, skip: string[] = []): Promise<string[]> {
  const { stdout } = await exec('find', [root, '-type', 'f', '-printf', '%P %s\n'], { maxBuffer: 256 * 1024 * 1024 });
  return stdout
    .split('\n')
    .filter((l) => l && !skip.some((s) => l.startsWith(`${s} `)))
    .sort();
}
