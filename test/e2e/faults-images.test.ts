// Crash consistency of image imports (issue 14): berthd is killed with SIGKILL while an import is
// held at one of its steps (an upload, a recipe build, a publish); the next daemon reports the
// operation as interrupted, leaves nothing of the import on the host, and the same import then
// succeeds. No hook point is past the image's row, so an interrupted import never lists an image.
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { buffer } from 'node:stream/consumers';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import type { Test } from 'supertest';
import { recipeTar, recipeUpload } from '../../apps/berth/src/recipe-upload.js';
import { daemonApi, type Started } from '../support/api.js';
import { startDaemon, type Daemon } from '../support/daemon.js';
import { clearHolds, holdAt, hostResources, reached, resourceDiff, type HostResources } from '../support/faults.js';
import { tinyImage, type TinyImage } from '../support/tiny-image.js';

const DEBIAN_12 = fileURLToPath(new URL('../../../images/debian-12', import.meta.url));

/** What the new daemon warns of as it removes what an interrupted import left. */
const UPLOAD = 'removed the upload of an interrupted image import';
const RECIPE_TREE = 'removed the recipe tree of an interrupted image build';
const FILLING = 'removed the unsealed volume of an interrupted image import';
const UNRECORDED_VOLUME = 'removed an image volume with no image (an interrupted import or delete)';
const UNRECORDED_FILES = 'removed the image files of a fingerprint with no image (an interrupted import or delete)';

/**
 * What the daemon `d` holds on the host. This suite starts no container and no network, so
 * links, cgroups and processes in Berth's cgroups are only ever other daemons' (suites of other
 * checkouts run beside it on a shared host): they are left out, and a process counts when it
 * names the daemon's directory.
 */
async function ownResources(d: Daemon): Promise<HostResources> {
  const all = await hostResources(d);
  return { ...all, links: [], cgroups: [], processes: all.processes.filter((p) => p.includes(d.dir)) };
}

describe('an image import interrupted by a kill of berthd', () => {
  let d: Daemon;
  let img: TinyImage;
  const { finish } = daemonApi(() => d, { timeoutSeconds: 120 });
  const upload = () => d.api().post('/1.0/images').set('Content-Type', 'application/octet-stream').set('X-LXD-aliases', 'tiny').send(img.unified);
  const uploadSplit = () => d.api().post('/1.0/images').set('X-LXD-aliases', 'tiny').attach('metadata', img.metadata, 'meta.tar.gz').attach('rootfs', img.rootfs, 'rootfs.tar.gz');
  const publish = () => d.api().post('/1.0/images').set('Content-Type', 'application/json').send({ source: { type: 'instance', name: 'pub' }, aliases: [{ name: 'published' }] });
  const images = async (): Promise<string[]> => (await d.api().get('/1.0/images').expect(200)).body.metadata;

  /**
   * Holds the import `start` begins at `step`, kills berthd there and starts a new one; then the
   * operation must have failed as interrupted, the new daemon have warned of each of `swept`, no
   * image of the import be listed, the host be as before, and the same import succeed (the image
   * it made is deleted again).
   */
  async function killedAt(step: string, start: () => Test, swept: string[]) {
    const baseline = await images();
    const before = await ownResources(d);
    await holdAt(d, step);
    const res: Started = await start();
    assert.equal(res.status, 202, JSON.stringify(res.body));
    await reached(d, step);
    await d.kill();
    await clearHolds(d);
    d = await d.restart();

    const op = (await d.api().get(res.body.operation!).expect(200)).body.metadata;
    assert.equal(op.status, 'Failure');
    assert.equal(op.err, 'Interrupted: the daemon stopped before the operation finished');
    const warnings = (await readFile(d.logFile, 'utf8'))
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as { level: number; msg: string })
      .filter((line) => line.level === 40 && line.msg.startsWith('removed '))
      .map((line) => line.msg);
    assert.deepEqual(warnings, swept);
    assert.deepEqual(await images(), baseline, 'no image of the interrupted import is listed');
    assert.deepEqual(resourceDiff(before, await ownResources(d)), {}, 'nothing of the interrupted import is left on the host');

    const done = await finish(await start());
    const fingerprint: string = done.metadata.fingerprint;
    assert.deepEqual((await images()).sort(), [...baseline, `/1.0/images/${fingerprint}`].sort());
    await finish(await d.api().delete(`/1.0/images/${fingerprint}`));
    assert.deepEqual(resourceDiff(before, await ownResources(d)), {}, 'the image made afterwards is deleted cleanly too');
    return fingerprint;
  }

  before(async () => {
    d = await startDaemon();
    img = await tinyImage('faults');
    // The image the instance to publish is made from; importing it also makes $BERTH_DIR/images,
    // which stays for the daemon's life and so is no leftover of the first case.
    await finish(await d.api().post('/1.0/images').set('Content-Type', 'application/octet-stream').set('X-LXD-aliases', 'base').send((await tinyImage('base')).unified));
  });
  after(async () => {
    await d?.destroy();
  });

  describe('an upload (POST /1.0/images)', () => {
    it('received: the upload is in $BERTH_DIR/images/.upload-*', async () => {
      assert.equal(await killedAt('image-import.received', upload, [UPLOAD]), img.unifiedFingerprint);
    });

    it('filling: the image is unpacked into its .filling volume', async () => {
      assert.equal(await killedAt('image-import.filling', upload, [UPLOAD, FILLING]), img.unifiedFingerprint);
    });

    it('sealed: the volume is sealed, the image not recorded yet', async () => {
      assert.equal(await killedAt('image-import.sealed', upload, [UPLOAD, UNRECORDED_VOLUME]), img.unifiedFingerprint);
    });

    it('kept: a split image\'s two files are at their final names, the image not recorded yet', async () => {
      assert.equal(await killedAt('image-import.kept', uploadSplit, [UPLOAD, UNRECORDED_VOLUME, UNRECORDED_FILES]), img.splitFingerprint);
    });
  });

  describe('a publish of an instance', () => {
    before(async () => {
      await finish(await d.api().post('/1.0/instances').send({ name: 'pub', source: { type: 'image', alias: 'base' } }));
    });

    it('packed: the instance is packed into an upload', async () => {
      await killedAt('image-publish.packed', publish, [UPLOAD]);
    });

    it('filling: the packed image is unpacked into its .filling volume', async () => {
      await killedAt('image-import.filling', publish, [UPLOAD, FILLING]);
      const instance = (await d.api().get('/1.0/instances/pub').expect(200)).body.metadata;
      assert.equal(instance.status, 'Stopped');
    });
  });

  describe('a recipe build (application/x-berth-recipe)', () => {
    let tree: Buffer;
    let recipe: string;
    const build = () => d.api().post('/1.0/images').set('Content-Type', 'application/x-berth-recipe').set('X-Berth-Recipe', encodeURIComponent(recipe)).send(tree);

    before(async () => {
      const up = await recipeUpload(DEBIAN_12);
      recipe = up.recipe;
      tree = await buffer(recipeTar(up.entries));
    });

    it('extracted: the recipe tree is in $BERTH_DIR/images/.recipe-*', async () => {
      await killedAt('image-build.extracted', build, [RECIPE_TREE]);
    });

    it('filling: the built image (a debian rootfs) is being unpacked into its .filling volume', async () => {
      await killedAt('image-import.filling', build, [UPLOAD, FILLING]);
    });
  });

  it('an unsealed volume left while this daemon runs does not block the import either', async () => {
    // The sweep at start is not the only guard: an import removes an unsealed volume of its image
    // that no import of this daemon is filling (here one made by hand, as a failed removal leaves it).
    const before = await ownResources(d);
    const filling = join(d.dir, 'storage', 'default', 'images', `${img.unifiedFingerprint}.filling`);
    await mkdir(join(filling, 'rootfs'), { recursive: true });
    await writeFile(join(filling, 'rootfs', 'half'), 'left');
    await finish(await upload());
    await finish(await d.api().delete(`/1.0/images/${img.unifiedFingerprint}`));
    assert.deepEqual(resourceDiff(before, await ownResources(d)), {});
  });
});
