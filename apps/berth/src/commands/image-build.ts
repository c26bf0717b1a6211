// berth image build <recipe-dir> [--alias A]: runs the recipe, packs an LXD unified image, imports it.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { arch } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import type { Command } from 'commander';
import type { Image } from '../api.js';
import type { Cli } from '../cli.js';
import { ApiError } from '../client.js';
import { UsageError } from '../errors.js';
import { collect, importImage, resolveImage } from './image.js';

const run = promisify(execFile);
const CACHE = '/var/cache/berth/images';
const ARCH: Record<string, string> = { x64: 'x86_64', arm64: 'aarch64' };

/**
 * A recipe directory holds `build.sh`, which builds (and caches) a root filesystem and prints its
 * path. The image is that tree under `rootfs/` with a `metadata.yaml`, packed once per rootfs and
 * cached, so the same recipe always gives the same fingerprint.
 */
export async function packImage(recipe: string, log: (line: string) => void): Promise<string> {
  const script = join(recipe, 'build.sh');
  if (!existsSync(script)) throw new UsageError(`${recipe} is not an image recipe (no build.sh)`);
  log(`Building the root filesystem with ${script} (cached after the first build)`);
  const { stdout } = await run(script, [], { maxBuffer: 64 * 1024 * 1024, timeout: 60 * 60 * 1000 });
  const rootfs = stdout.trim().split('\n').pop()!;
  const name = basename(resolve(recipe));
  const templates = await recipeTemplates(recipe);
  const key = createHash('sha256')
    .update(`${name}\0${rootfs}\0${await readFile(join(rootfs, 'etc', 'berth-recipe'), 'utf8').catch(() => '')}\0${templates?.fingerprint ?? ''}`)
    .digest('hex')
    .slice(0, 16);
  const tarball = join(CACHE, `${name}-${key}.tar`);
  if (existsSync(tarball)) return tarball;
  await mkdir(CACHE, { recursive: true, mode: 0o700 });
  const work = await mkdtemp(join(CACHE, '.pack-'));
  try {
    const [os, release] = name.split('-');
    await writeFile(
      join(work, 'metadata.yaml'),
      `architecture: ${ARCH[arch()] ?? arch()}\ncreation_date: ${Math.floor(Date.now() / 1000)}\nproperties:\n  os: ${os}\n  release: "${release ?? ''}"\n  description: ${name} built by berth from ${recipe}\n${templates?.section ?? ''}`,
    );
    log(`Packing ${rootfs} into ${tarball}`);
    const templateFiles = templates ? ['-C', resolve(recipe), 'templates'] : [];
    await run('tar', ['--numeric-owner', '--xattrs', '--xattrs-include=security.capability', '-cf', join(work, 'image.tar'), '-C', work, 'metadata.yaml', ...templateFiles, '--transform', 's,^\\.,rootfs,S', '-C', rootfs, '.'], {
      maxBuffer: 64 * 1024 * 1024,
    });
    await rename(join(work, 'image.tar'), tarball);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  return tarball;
}

/**
 * A recipe's templates: `templates.yaml` (the `templates:` section of metadata.yaml, LXD's format)
 * and the files it names under `templates/`; undefined for a recipe without them.
 */
async function recipeTemplates(recipe: string): Promise<{ section: string; fingerprint: string } | undefined> {
  const yaml = await readFile(join(recipe, 'templates.yaml'), 'utf8').catch(() => undefined);
  if (yaml === undefined) return undefined;
  const lines = yaml.split('\n').filter((line) => line.trim() !== '' && !line.trimStart().startsWith('#'));
  const hash = createHash('sha256').update(yaml);
  for (const file of (await readdir(join(recipe, 'templates'))).sort()) hash.update(`\0${file}\0`).update(await readFile(join(recipe, 'templates', file)));
  return { section: `templates:\n${lines.map((line) => `  ${line}`).join('\n')}\n`, fingerprint: hash.digest('hex') };
}

export function registerImageBuildCommand(image: Command, cli: Cli): void {
  image
    .command('build')
    .description('Build an image from a recipe directory (such as images/debian-12) and import it')
    .argument('<recipe>')
    .option('--alias <alias>', 'an alias for the image (repeatable)', collect, [])
    .action(async (recipe: string, options: { alias: string[] }) => {
      const tarball = await packImage(recipe, (line) => cli.warn(line));
      try {
        const fingerprint = await importImage(cli, [tarball], { alias: options.alias, public: false, property: {} });
        cli.print(`Image imported with fingerprint: ${fingerprint}`);
      } catch (err) {
        if (!(err instanceof ApiError && err.status === 409)) throw err;
        const hash = createHash('sha256');
        for await (const chunk of createReadStream(tarball)) hash.update(chunk as Buffer);
        const fingerprint = hash.digest('hex');
        const existing: Image = await resolveImage(cli, fingerprint);
        for (const alias of options.alias.filter((a) => !existing.aliases.some((e) => e.name === a))) {
          await cli.client.send('POST', '/1.0/images/aliases', { name: alias, target: fingerprint });
        }
        cli.print(`Image already imported with fingerprint: ${fingerprint}`);
      }
    });
}
