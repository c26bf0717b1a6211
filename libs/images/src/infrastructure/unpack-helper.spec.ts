import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ImageExtractionFailedError, UnsafeArchiveError } from '../domain/image.errors.js';
import { Sandbox } from '../testing/crafted-archives.js';
import { locateUnpackHelper, removeExtractedTree, UnpackHelperProcess } from './unpack-helper.js';
import { encode, RECORD_STREAM_MAGIC, type RawRecord } from './unpack-records.js';

/*
 * berth-unpack on its own, fed records the layout policy would never admit: the helper must hold
 * the line by itself (openat2 confinement, O_EXCL, type checks), and --remove must not follow
 * symlinks.
 */
const helperPath = locateUnpackHelper(process.env.BERTH_UNPACK_HELPER);
const sandboxes: Sandbox[] = [];
after(() => sandboxes.forEach((s) => s.cleanup()));

const base: RawRecord = {
  type: 'f',
  flags: 0,
  mode: 0o644,
  uid: 0,
  gid: 0,
  mtimeSeconds: 1_700_000_000,
  mtimeNanoseconds: 0,
  devMajor: 0,
  devMinor: 0,
  path: Buffer.alloc(0),
  link: Buffer.alloc(0),
  xattrs: [],
  dataBytes: 0,
};
const dir = (path: string): Buffer => encode({ ...base, type: 'd', mode: 0o755, path: Buffer.from(path) });
const file = (path: string, data: string): Buffer => Buffer.concat([encode({ ...base, path: Buffer.from(path), dataBytes: Buffer.byteLength(data) }), Buffer.from(data)]);
const symlink = (path: string, target: string): Buffer => encode({ ...base, type: 'l', path: Buffer.from(path), link: Buffer.from(target) });
const hardlink = (path: string, target: string): Buffer => encode({ ...base, type: 'h', path: Buffer.from(path), link: Buffer.from(target) });

async function runHelper(records: Buffer[]): Promise<{ sandbox: Sandbox; error: unknown }> {
  const sandbox = new Sandbox();
  sandboxes.push(sandbox);
  const helper = await UnpackHelperProcess.start({ helperPath, target: sandbox.target });
  try {
    for (const record of records) await helper.write(record);
    await helper.finish();
    return { sandbox, error: undefined };
  } catch (error) {
    await helper.abort();
    return { sandbox, error };
  }
}

function assertSentinelIntact(sandbox: Sandbox): void {
  assert.deepEqual(readdirSync(sandbox.sentinel), ['file']);
  assert.equal(readFileSync(join(sandbox.sentinel, 'file'), 'utf8'), 'untouched\n');
  assert.equal(lstatSync(join(sandbox.sentinel, 'file')).nlink, 1);
}

describe('berth-unpack on its own', () => {
  it('refuses to write through a symlink in the parent path (openat2 RESOLVE_NO_SYMLINKS)', async () => {
    // As the last component of the parent (O_NOFOLLOW|O_DIRECTORY: ENOTDIR) and in the middle (ELOOP).
    for (const [path, errno] of [
      ['rootfs/escape/pwned', 'ENOTDIR'],
      ['rootfs/escape/sub/pwned', 'ELOOP'],
    ]) {
      const { sandbox, error } = await runHelper([dir('rootfs'), symlink('rootfs/escape', '../../sentinel'), file(path, 'x')]);
      assert.ok(error instanceof UnsafeArchiveError, String(error));
      assert.equal(error.entry, path);
      assert.match(error.reason, new RegExp(errno));
      assertSentinelIntact(sandbox);
    }
  });

  it('refuses to replace an existing entry (O_EXCL, mkdirat, symlinkat)', async () => {
    const { sandbox, error } = await runHelper([dir('d'), symlink('d', '/')]);
    assert.ok(error instanceof UnsafeArchiveError);
    assert.match(error.reason, /EEXIST/);
    assert.ok(lstatSync(join(sandbox.target, 'd')).isDirectory());
  });

  it('refuses a hardlink to a symlink or a directory, and a hardlink target reached through a symlink', async () => {
    for (const records of [
      [symlink('s', '/etc/shadow'), hardlink('h', 's')],
      [dir('d'), hardlink('h', 'd')],
      [symlink('up', '..'), hardlink('h', 'up/sentinel/file')],
    ]) {
      const { sandbox, error } = await runHelper(records);
      assert.ok(error instanceof UnsafeArchiveError, String(error));
      assert.equal(error.entry, 'h');
      assertSentinelIntact(sandbox);
    }
  });

  it('refuses ".." and absolute paths in the record stream itself', async () => {
    for (const record of [file('../x', 'x'), file('/x', 'x'), file('a//b', 'x'), hardlink('h', '../sentinel/file')]) {
      const { sandbox, error } = await runHelper([record]);
      assert.match(String(error), /refused its input: (path|hardlink target)/);
      assertSentinelIntact(sandbox);
    }
  });

  it('fails when the stream ends without its end record, or inside an entry', async () => {
    for (const [input, message] of [
      [Buffer.concat([RECORD_STREAM_MAGIC, file('x', 'complete')]), 'protocol\trecord stream ended early (no end record)\n'],
      [Buffer.concat([RECORD_STREAM_MAGIC, encode({ ...base, path: Buffer.from('y'), dataBytes: 10 }), Buffer.from('half')]), 'protocol\trecord stream ended inside the data of y\n'],
    ] as const) {
      const sandbox = new Sandbox();
      sandboxes.push(sandbox);
      const run = spawnSync(helperPath, ['--target', sandbox.target], { input, encoding: 'utf8' });
      assert.equal(run.status, 3);
      assert.equal(run.stderr, message);
      assert.equal(run.stdout, 'created\n', 'nothing confirmed');
    }
  });

  it('refuses a target that already exists, and reports it as a host failure', async () => {
    const sandbox = new Sandbox();
    sandboxes.push(sandbox);
    mkdirSync(sandbox.target);
    writeFileSync(join(sandbox.target, 'keep'), 'mine');
    const error = await UnpackHelperProcess.start({ helperPath, target: sandbox.target }).then(() => undefined, (e: unknown) => e);
    assert.ok(error instanceof ImageExtractionFailedError, String(error));
    assert.deepEqual([error.syscall, error.errno], ['mkdir', 'EEXIST']);
    assert.equal(readFileSync(join(sandbox.target, 'keep'), 'utf8'), 'mine');
  });

  it('accepts an end record right after the magic (an empty tree)', async () => {
    const { sandbox, error } = await runHelper([]);
    assert.equal(error, undefined);
    assert.deepEqual(readdirSync(sandbox.target), []);
  });
});

describe('berth-unpack --remove', () => {
  it('removes a tree without following the symlinks in it', async () => {
    const sandbox = new Sandbox();
    sandboxes.push(sandbox);
    mkdirSync(join(sandbox.target, 'a/b'), { recursive: true });
    writeFileSync(join(sandbox.target, 'a/b/f'), 'x');
    symlinkSync(sandbox.sentinel, join(sandbox.target, 'to-sentinel-dir'));
    symlinkSync(join(sandbox.sentinel, 'file'), join(sandbox.target, 'a/to-sentinel-file'));
    symlinkSync('../../sentinel', join(sandbox.target, 'a/b/relative'));
    await removeExtractedTree(helperPath, sandbox.target);
    assert.equal(existsSync(sandbox.target), false);
    assertSentinelIntact(sandbox);
  });

  it('removes a target that is itself a symlink, not what it points to, and accepts a missing one', async () => {
    const sandbox = new Sandbox();
    sandboxes.push(sandbox);
    symlinkSync(sandbox.sentinel, sandbox.target);
    await removeExtractedTree(helperPath, sandbox.target);
    assert.equal(existsSync(sandbox.target), false);
    assertSentinelIntact(sandbox);
    await removeExtractedTree(helperPath, sandbox.target);
  });
});

/* Capability numbers from capabilities(7). */
const CAP = { chown: 0, dacOverride: 1, dacReadSearch: 2, fowner: 3, fsetid: 4, mknod: 27, setfcap: 31 } as const;
const mask = (...caps: number[]) => caps.reduce((m, c) => m | (1n << BigInt(c)), 0n);
const EXTRACT_CAPS = mask(CAP.chown, CAP.dacOverride, CAP.dacReadSearch, CAP.fowner, CAP.fsetid, CAP.setfcap);

/** /proc/<pid>/status of a helper waiting for its records, once it has created its target. */
async function statusWhileRunning(args: string[]): Promise<Record<string, string>> {
  const sandbox = new Sandbox();
  sandboxes.push(sandbox);
  const child = spawn(helperPath, ['--target', sandbox.target, ...args], { stdio: ['pipe', 'pipe', 'pipe'], env: {} });
  const closed = new Promise((resolve) => child.on('close', resolve));
  await new Promise<void>((resolve, reject) => {
    child.stdout.setEncoding('utf8').on('data', (text: string) => (text.startsWith('created') ? resolve() : undefined));
    child.on('close', () => reject(new Error('berth-unpack ended before creating its target')));
  });
  const status = Object.fromEntries(
    readFileSync(`/proc/${child.pid}/status`, 'utf8')
      .split('\n')
      .filter((line) => line.includes(':'))
      .map((line) => [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 1).trim()]),
  );
  child.stdin.end();
  await closed;
  return status;
}

describe('berth-unpack sandbox', () => {
  for (const call of ['socket', 'mmap-exec', 'execve']) {
    it(`is killed with SIGSYS when it makes a forbidden call (${call})`, () => {
      const result = spawnSync(helperPath, ['--selftest-forbidden', call], { env: {}, encoding: 'utf8' });
      assert.equal(result.signal, 'SIGSYS', `status ${result.status}, stderr ${result.stderr}`);
      assert.equal(result.stderr, '');
    });
  }

  it('extracts under a seccomp filter, with no_new_privs and only the capabilities it needs', async () => {
    const status = await statusWhileRunning([]);
    assert.equal(status.Seccomp, '2');
    assert.equal(status.NoNewPrivs, '1');
    assert.equal(BigInt(`0x${status.CapEff}`), EXTRACT_CAPS);
    assert.equal(BigInt(`0x${status.CapPrm}`), EXTRACT_CAPS);
    assert.equal(BigInt(`0x${status.CapBnd}`), EXTRACT_CAPS);
    assert.equal(BigInt(`0x${status.CapInh}`), 0n);
    assert.equal(BigInt(`0x${status.CapAmb}`), 0n);
  });

  it('keeps CAP_MKNOD only for a privileged target', async () => {
    const status = await statusWhileRunning(['--privileged']);
    assert.equal(BigInt(`0x${status.CapEff}`), EXTRACT_CAPS | mask(CAP.mknod));
  });

  it('a real extraction of every kind of entry passes under the sandbox', async () => {
    const { sandbox, error } = await runHelper([
      dir('rootfs'),
      dir('rootfs/etc'),
      file('rootfs/etc/hostname', 'berth\n'),
      symlink('rootfs/etc/link', 'hostname'),
      hardlink('rootfs/etc/hard', 'rootfs/etc/hostname'),
    ]);
    assert.equal(error, undefined);
    assert.equal(readFileSync(join(sandbox.target, 'rootfs', 'etc', 'hard'), 'utf8'), 'berth\n');
    assert.equal(lstatSync(join(sandbox.target, 'rootfs', 'etc', 'link')).isSymbolicLink(), true);
  });
});
