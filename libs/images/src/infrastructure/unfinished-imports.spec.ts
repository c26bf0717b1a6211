import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { loadConfig, type Logger } from '#core';
import { fingerprintOf, InMemoryImages, scratchImageFiles } from '../testing/fakes.js';
import type { ImageVolumes } from './image-volumes.js';
import { RecipeArchives } from './recipe-archives.js';
import { UnfinishedImports } from './unfinished-imports.js';

const RECORDED = fingerprintOf('aa');
const UNRECORDED = fingerprintOf('bb');
const FILLING = fingerprintOf('cc');

/** A pool's image volumes: the sealed ones by fingerprint, and the ones left unsealed. */
function fakeVolumes(sealed: string[], unsealed: string[], failSweep = false) {
  const deleted: string[] = [];
  const volumes = {
    sweepUnfinished: async () => {
      if (failSweep) throw new Error('pool unavailable');
      return unsealed.splice(0);
    },
    sealedFingerprints: async () => [...sealed],
    delete: async (fingerprint: string) => {
      deleted.push(fingerprint);
      sealed.splice(sealed.indexOf(fingerprint), 1);
    },
  } as unknown as ImageVolumes;
  return { deleted, sealed, volumes };
}

function recordingLog() {
  const lines: string[] = [];
  const log = {
    warn: (fields: Record<string, unknown>, message: string) => lines.push(`warn ${message}: ${String(fields.fingerprint ?? fields.path).replace(/.*\//, '')}`),
    error: (fields: Record<string, unknown>, message: string) => lines.push(`error ${message}: ${String(fields.err)}`),
  } as unknown as Logger;
  return { lines, log };
}

describe('UnfinishedImports (at daemon start)', () => {
  let scratch: Awaited<ReturnType<typeof scratchImageFiles>>;
  let archives: RecipeArchives;
  let images: InMemoryImages;

  beforeEach(async () => {
    scratch = await scratchImageFiles('berth-unfinished-imports-');
    archives = new RecipeArchives(loadConfig({ BERTH_DIR: scratch.berthDir }));
    images = new InMemoryImages();
    images.add(RECORDED);
    const root = scratch.files.root;
    await mkdir(join(root, '.upload-1', 'nested'), { recursive: true });
    await writeFile(join(root, '.upload-1', 'image'), 'half an upload');
    await mkdir(join(root, '.recipe-2', 'web'), { recursive: true });
    await writeFile(join(root, '.recipe-2', 'web', 'recipe.yaml'), 'description: web\n');
    for (const name of [RECORDED, UNRECORDED, `${UNRECORDED}.rootfs`, 'README']) await writeFile(join(root, name), name);
  });
  afterEach(() => scratch.remove());

  it('removes uploads, recipe trees, unsealed volumes, and the volumes and files of fingerprints with no image; keeps the rest', async () => {
    const { deleted, sealed, volumes } = fakeVolumes([RECORDED, UNRECORDED], [FILLING]);
    const { lines, log } = recordingLog();
    await new UnfinishedImports(images.asRepository(), volumes, scratch.files, archives, log).onApplicationBootstrap();
    assert.deepEqual((await scratch.left()).sort(), ['README', RECORDED]);
    assert.deepEqual(deleted, [UNRECORDED]);
    assert.deepEqual(sealed, [RECORDED]);
    assert.deepEqual(lines, [
      'warn removed the upload of an interrupted image import: .upload-1',
      'warn removed the recipe tree of an interrupted image build: .recipe-2',
      `warn removed the unsealed volume of an interrupted image import: ${FILLING}`,
      `warn removed an image volume with no image (an interrupted import or delete): ${UNRECORDED}`,
      `warn removed the image files of a fingerprint with no image (an interrupted import or delete): ${UNRECORDED}`,
    ]);
  });

  it('a step that fails is logged and the others still run; nothing is removed when the images cannot be listed', async () => {
    const { deleted, volumes } = fakeVolumes([UNRECORDED], [FILLING], true);
    const { lines, log } = recordingLog();
    images.fingerprints = async () => {
      throw new Error('database unavailable');
    };
    await new UnfinishedImports(images.asRepository(), volumes, scratch.files, archives, log).onApplicationBootstrap();
    assert.deepEqual((await scratch.left()).sort(), [RECORDED, UNRECORDED, `${UNRECORDED}.rootfs`, 'README'].sort());
    assert.deepEqual(deleted, []);
    assert.deepEqual(lines, [
      'warn removed the upload of an interrupted image import: .upload-1',
      'warn removed the recipe tree of an interrupted image build: .recipe-2',
      'error could not sweep unfinished unsealed image volumes: pool unavailable',
      'error could not list the images to look for unrecorded volumes and files: database unavailable',
    ]);
  });
});
