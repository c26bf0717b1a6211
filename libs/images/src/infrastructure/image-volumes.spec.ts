import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TestHooks, type Logger } from '#core';
import type { DefaultPool } from '#storage';
import { fingerprintOf } from '../testing/fakes.js';
import { ImageVolumes } from './image-volumes.js';

const FILES = { kind: 'unified', path: '/nonexistent/image' } as const;

/**
 * A pool whose image volume creation waits until `release` is called, then fails (so nothing is
 * unpacked); `unfinished` lists the fingerprints that have a volume left unsealed.
 */
function gatedPool(unfinished: string[]) {
  const calls: string[] = [];
  const gates: Array<() => void> = [];
  const driver = {
    pool: 'default',
    removeUnfinishedImageVolume: async (fingerprint: string) => {
      calls.push(`remove unfinished ${fingerprint.slice(0, 4)}`);
      return unfinished.includes(fingerprint);
    },
    createImageVolume: async (fingerprint: string) => {
      calls.push(`create ${fingerprint.slice(0, 4)}`);
      await new Promise<void>((resolve) => gates.push(resolve));
      throw new Error('no room for it');
    },
  };
  const released = async () => {
    while (gates.length === 0) await new Promise((r) => setImmediate(r));
    gates.shift()!();
  };
  return { calls, release: released, pool: { get: async () => driver } as unknown as DefaultPool };
}

function recordingLog() {
  const warnings: Array<[object, string]> = [];
  return { warnings, log: { warn: (fields: object, message: string) => warnings.push([fields, message]), error: () => undefined } as unknown as Logger };
}

describe('ImageVolumes.create', () => {
  const run = (volumes: ImageVolumes, fingerprint: string) => volumes.create(fingerprint, FILES, new AbortController().signal, () => undefined);

  it('removes the unsealed volume an interrupted import of the same image left, with a warning, then creates it', async () => {
    const fingerprint = fingerprintOf('ab');
    const { calls, release, pool } = gatedPool([fingerprint]);
    const { warnings, log } = recordingLog();
    const creating = run(new ImageVolumes(pool, TestHooks.off(), log), fingerprint);
    await release();
    await assert.rejects(creating, /no room for it/);
    assert.deepEqual(calls, ['remove unfinished ab00', 'create ab00']);
    assert.deepEqual(warnings, [[{ fingerprint, pool: 'default' }, 'removed the unfinished volume of an interrupted import of this image']]);
  });

  it('refuses a second import of an image while this daemon fills its volume, and accepts it once that one ended', async () => {
    const fingerprint = fingerprintOf('cd');
    const { calls, release, pool } = gatedPool([]);
    const { warnings, log } = recordingLog();
    const volumes = new ImageVolumes(pool, TestHooks.off(), log);
    const first = run(volumes, fingerprint);
    const other = run(volumes, fingerprintOf('ef'));
    await assert.rejects(run(volumes, fingerprint), { code: 'RESOURCE.BUSY', message: `Image with fingerprint ${fingerprint} is already being imported` });
    await release();
    await release();
    await assert.rejects(first, /no room for it/);
    await assert.rejects(other, /no room for it/);
    const again = run(volumes, fingerprint);
    await release();
    await assert.rejects(again, /no room for it/);
    assert.deepEqual(calls, ['remove unfinished cd00', 'remove unfinished ef00', 'create cd00', 'create ef00', 'remove unfinished cd00', 'create cd00']);
    assert.deepEqual(warnings, [], 'nothing was left to remove');
  });
});
