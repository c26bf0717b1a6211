import { spawn } from 'node:child_process';
import { isExecutable } from '#core';
import { open } from 'node:fs/promises';
import { InvalidDiskImageError, UnsupportedDiskImageError } from './source.errors.js';
import { diesWithDaemon, TOOL_ENV } from './tar-producer.js';

/*
 * qcow2 images are converted to a raw file with qemu-img (Debian qemu-utils), then read as a raw
 * disk. A qcow2 may name other files (a backing file, an external data file): those paths are
 * hostile input, so such images are refused, by our own reading of the header and again by
 * `qemu-img info`. qemu-img always gets `-f qcow2` (never format probing) and runs under
 * prlimit, as qemu's documentation advises for untrusted images.
 * Read: qemu-img(1), docs/interop/qcow2.txt of QEMU (header layout).
 */

const QEMU_IMG = '/usr/bin/qemu-img';
const PRLIMIT = '/usr/bin/prlimit';
const INFO_LIMITS = ['--as=1073741824', '--cpu=60'];
const CONVERT_LIMITS = ['--as=4294967296'];
const QCOW2_MAGIC = 0x514649fb;
const HEADER_BYTES = 104;
const INCOMPATIBLE_EXTERNAL_DATA_FILE = 1n << 2n;
const STDERR_KEPT_BYTES = 16 * 1024;

export interface Qcow2Info {
  /** Bytes of the disk the image holds (the raw file's size once converted). */
  readonly virtualSize: number;
}

/**
 * Checks the qcow2 header of `path` ourselves, then asks `qemu-img info`; refuses backing files,
 * external data files and encryption. Returns the virtual size.
 */
export async function inspectQcow2(path: string, signal?: AbortSignal): Promise<Qcow2Info> {
  for (const tool of [QEMU_IMG, PRLIMIT]) {
    if (!isExecutable(tool)) throw new Error(`${tool} is missing: reading qcow2 images needs the Debian packages qemu-utils and util-linux`);
  }
  await checkQcow2Header(path);
  const { stdout } = await runQemuImg([...INFO_LIMITS], ['info', '--output=json', '-f', 'qcow2', '--', path], path, signal);
  let info: Record<string, unknown>;
  try {
    info = JSON.parse(stdout) as Record<string, unknown>;
  } catch {
    throw new InvalidDiskImageError(path, 'qemu-img info did not describe it');
  }
  const refuse = (reason: string): never => {
    throw new UnsupportedDiskImageError(path, reason);
  };
  if (info['format'] !== 'qcow2') throw new InvalidDiskImageError(path, `qemu-img reads it as ${String(info['format'])}, not qcow2`);
  if (info['backing-filename'] !== undefined || info['full-backing-filename'] !== undefined) refuse('it has a backing file (flatten it first: qemu-img convert -O qcow2)');
  if (info['encrypted'] === true) refuse('it is encrypted');
  const specific = (info['format-specific'] as { data?: Record<string, unknown> } | undefined)?.data;
  if (specific?.['data-file'] !== undefined) refuse('it has an external data file');
  const virtualSize = info['virtual-size'];
  if (typeof virtualSize !== 'number' || !Number.isSafeInteger(virtualSize) || virtualSize <= 0) throw new InvalidDiskImageError(path, 'no valid virtual size');
  return { virtualSize };
}

/** Converts the qcow2 at `path` to a sparse raw file `output` (which must not exist); reports progress as bytes of the virtual size. */
export async function convertQcow2ToRaw(path: string, output: string, virtualSize: number, signal?: AbortSignal, onProgress?: (bytes: number) => void): Promise<void> {
  await runQemuImg(CONVERT_LIMITS, ['convert', '-p', '-f', 'qcow2', '-O', 'raw', '--', path, output], path, signal, (text) => {
    const percent = /\((\d+(?:\.\d+)?)\/100%\)\s*$/.exec(text.trimEnd());
    if (percent !== null) onProgress?.(Math.round((Number(percent[1]) / 100) * virtualSize));
  });
}

async function checkQcow2Header(path: string): Promise<void> {
  const handle = await open(path, 'r');
  const header = Buffer.alloc(HEADER_BYTES);
  let length: number;
  try {
    ({ bytesRead: length } = await handle.read(header, 0, HEADER_BYTES, 0));
  } finally {
    await handle.close();
  }
  const invalid = (reason: string): never => {
    throw new InvalidDiskImageError(path, reason);
  };
  if (length < 72 || header.readUInt32BE(0) !== QCOW2_MAGIC) invalid('no qcow2 header');
  const version = header.readUInt32BE(4);
  if (version !== 2 && version !== 3) invalid(`qcow2 version ${version} is not supported`);
  if (header.readBigUInt64BE(8) !== 0n) throw new UnsupportedDiskImageError(path, 'it has a backing file (flatten it first: qemu-img convert -O qcow2)');
  if (header.readUInt32BE(32) !== 0) throw new UnsupportedDiskImageError(path, 'it is encrypted');
  if (version === 3) {
    if (length < 80) invalid('the qcow2 v3 header is truncated');
    if ((header.readBigUInt64BE(72) & INCOMPATIBLE_EXTERNAL_DATA_FILE) !== 0n) throw new UnsupportedDiskImageError(path, 'it has an external data file');
  }
}

async function runQemuImg(
  limits: readonly string[],
  args: readonly string[],
  path: string,
  signal: AbortSignal | undefined,
  onStdout?: (text: string) => void,
): Promise<{ stdout: string }> {
  const child = spawn(...diesWithDaemon(PRLIMIT, [...limits, '--', QEMU_IMG, ...args]), { stdio: ['ignore', 'pipe', 'pipe'], env: TOOL_ENV, signal, killSignal: 'SIGKILL' });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (text: string) => {
    if (onStdout === undefined) stdout += text;
    else onStdout(text);
  });
  child.stderr.setEncoding('utf8').on('data', (text: string) => {
    if (stderr.length < STDERR_KEPT_BYTES) stderr += text;
  });
  const [code, killedBy] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (exitCode, exitSignal) => resolve([exitCode, exitSignal]));
  });
  if (code !== 0) {
    const message = stderr.trim().split('\n').slice(0, 3).join(' / ') || `qemu-img stopped (${killedBy ?? `exit status ${code}`})`;
    throw new InvalidDiskImageError(path, `qemu-img ${args[0]}: ${message}`);
  }
  return { stdout };
}
