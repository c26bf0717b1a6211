// berth file push | pull | delete
import { createReadStream, createWriteStream } from 'node:fs';
import { lstat, mkdir, readdir, readlink, stat, symlink, chmod } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { InvalidArgumentError, type Command } from 'commander';
import { segment, type Cli } from '../cli.js';
import { parseEnvelope } from '../client.js';
import { UsageError } from '../errors.js';

interface PushOptions {
  recursive: boolean;
  createDirs: boolean;
  uid?: number;
  gid?: number;
  mode?: number;
}

interface PullOptions {
  recursive: boolean;
  createDirs: boolean;
}

/** `<name>/<path>`: the instance and an absolute path inside it. */
export function parseTarget(value: string): { name: string; path: string } {
  const slash = value.indexOf('/');
  if (slash <= 0) throw new UsageError(`"${value}" is not <instance>/<path>`);
  return { name: value.slice(0, slash), path: path.posix.normalize(`/${value.slice(slash + 1)}`) + (value.endsWith('/') && value.length > slash + 1 ? '/' : '') };
}

const filesUrl = (name: string, guestPath: string) => `/1.0/instances/${segment(name)}/files?path=${encodeURIComponent(guestPath)}`;

function octal(value: string): number {
  if (!/^0?[0-7]{1,4}$/.test(value)) throw new InvalidArgumentError('expected an octal mode such as 0644');
  return parseInt(value, 8);
}

function numericId(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError('expected a numeric id');
  return Number(value);
}

const mode4 = (mode: number) => (mode & 0o7777).toString(8).padStart(4, '0');

async function pushOne(cli: Cli, name: string, guestPath: string, type: 'file' | 'directory' | 'symlink', body: Readable, headers: Record<string, string>): Promise<void> {
  await cli.client.sendStream('POST', filesUrl(name, guestPath), body, { 'Content-Type': 'application/octet-stream', 'X-LXD-type': type, ...headers });
}

function owner(options: PushOptions, mode: number): Record<string, string> {
  return {
    'X-LXD-mode': mode4(options.mode ?? mode),
    ...(options.uid === undefined ? {} : { 'X-LXD-uid': String(options.uid) }),
    ...(options.gid === undefined ? {} : { 'X-LXD-gid': String(options.gid) }),
  };
}

/** Creates each missing directory above `guestPath` (and an existing one is no error). */
async function pushParents(cli: Cli, name: string, guestPath: string): Promise<void> {
  const parts = path.posix.dirname(guestPath).split('/').filter(Boolean);
  for (let i = 1; i <= parts.length; i++) {
    await pushOne(cli, name, `/${parts.slice(0, i).join('/')}`, 'directory', Readable.from([]), { 'X-LXD-mode': '0755' });
  }
}

async function pushTree(cli: Cli, name: string, source: string, guestPath: string, options: PushOptions): Promise<void> {
  const info = await lstat(source);
  if (info.isSymbolicLink()) {
    await pushOne(cli, name, guestPath, 'symlink', Readable.from([Buffer.from(await readlink(source))]), {});
  } else if (info.isDirectory()) {
    if (!options.recursive) throw new UsageError(`${source} is a directory (use -r)`);
    await pushOne(cli, name, guestPath, 'directory', Readable.from([]), owner({ ...options, mode: undefined }, info.mode));
    for (const entry of (await readdir(source)).sort()) await pushTree(cli, name, path.join(source, entry), path.posix.join(guestPath, entry), options);
  } else if (info.isFile()) {
    await pushOne(cli, name, guestPath, 'file', createReadStream(source), { ...owner(options, info.mode), 'Content-Length': String(info.size) });
  } else {
    cli.warn(`skipping ${source}: not a file, directory or symlink`);
  }
}

async function readJson(res: Readable & { statusCode?: number }): Promise<string[]> {
  const chunks: Buffer[] = [];
  for await (const chunk of res) chunks.push(chunk as Buffer);
  const envelope = parseEnvelope<string[]>(res.statusCode ?? 200, Buffer.concat(chunks).toString('utf8'));
  return envelope.type === 'sync' ? envelope.metadata : [];
}

async function pullTree(cli: Cli, name: string, guestPath: string, dest: string, options: PullOptions): Promise<void> {
  const res = await cli.client.download(filesUrl(name, guestPath));
  const type = String(res.headers['x-lxd-type'] ?? 'file');
  const mode = parseInt(String(res.headers['x-lxd-mode'] ?? '0644'), 8);
  if (type === 'directory') {
    const entries = await readJson(res);
    if (!options.recursive) throw new UsageError(`${name}${guestPath} is a directory (use -r)`);
    await mkdir(dest, { recursive: true });
    for (const entry of entries) await pullTree(cli, name, path.posix.join(guestPath, entry), path.join(dest, entry), options);
    await chmod(dest, mode);
  } else if (type === 'symlink') {
    const chunks: Buffer[] = [];
    for await (const chunk of res) chunks.push(chunk as Buffer);
    await symlink(Buffer.concat(chunks).toString('utf8'), dest);
  } else if (dest === '-') {
    await pipeline(res, process.stdout, { end: false });
  } else {
    await pipeline(res, createWriteStream(dest, { mode }));
    await chmod(dest, mode);
  }
}

async function isDirectory(p: string): Promise<boolean> {
  return (await stat(p).catch(() => null))?.isDirectory() ?? false;
}

export function registerFileCommands(program: Command, cli: Cli): void {
  const file = program.command('file').description('Move files in and out of instances (paths resolved inside the instance)');

  file
    .command('push')
    .description('Copy files into an instance: berth file push <source>... <instance>/<path>')
    .argument('<sources...>', 'local files (or directories with -r), then the target <instance>/<path>')
    .option('-r, --recursive', 'copy directories recursively', false)
    .option('-p, --create-dirs', 'create the missing directories above the target', false)
    .option('--uid <uid>', 'owner inside the instance', numericId)
    .option('--gid <gid>', 'group inside the instance', numericId)
    .option('--mode <mode>', 'file mode (octal; default: the source file\'s)', octal)
    .action(async (args: string[], options: PushOptions) => {
      if (args.length < 2) throw new UsageError('berth file push needs at least one source and a target <instance>/<path>');
      const sources = args.slice(0, -1);
      const target = parseTarget(args[args.length - 1]);
      const intoDir = sources.length > 1 || target.path.endsWith('/') || options.recursive;
      for (const source of sources) {
        const guestPath = intoDir ? path.posix.join(target.path, path.basename(source)) : target.path;
        if (options.createDirs) await pushParents(cli, target.name, guestPath);
        await pushTree(cli, target.name, source, guestPath, options);
      }
    });

  file
    .command('pull')
    .description('Copy files out of an instance: berth file pull <instance>/<path>... <dest>')
    .argument('<paths...>', 'the <instance>/<path> to copy, then a local destination ("-" for standard output)')
    .option('-r, --recursive', 'copy directories recursively', false)
    .option('-p, --create-dirs', 'create the missing local directories of the destination', false)
    .action(async (args: string[], options: PullOptions) => {
      if (args.length < 2) throw new UsageError('berth file pull needs at least one <instance>/<path> and a destination');
      const dest = args[args.length - 1];
      const sources = args.slice(0, -1).map(parseTarget);
      if (options.createDirs && dest !== '-') await mkdir(sources.length > 1 || options.recursive ? dest : path.dirname(dest), { recursive: true });
      const intoDir = dest !== '-' && (sources.length > 1 || (await isDirectory(dest)));
      for (const source of sources) {
        const local = intoDir ? path.join(dest, path.posix.basename(source.path)) : dest;
        await pullTree(cli, source.name, source.path, local, options);
      }
    });

  file
    .command('delete')
    .description('Delete files (or empty directories) in an instance: berth file delete <instance>/<path>...')
    .argument('<paths...>')
    .action(async (args: string[]) => {
      for (const target of args.map(parseTarget)) await cli.client.send('DELETE', filesUrl(target.name, target.path));
    });
}
