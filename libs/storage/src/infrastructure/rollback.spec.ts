import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { withRollback } from './rollback.js';

describe('withRollback', () => {
  it('undoes recorded steps in reverse order and rethrows the original error', async () => {
    const undone: string[] = [];
    const failure = new Error('mount failed');
    await assert.rejects(
      withRollback(async (rollback) => {
        rollback.add('file', async () => undone.push('file'));
        rollback.add('loop device', async () => undone.push('loop device'));
        throw failure;
      }),
      (error) => error === failure,
    );
    assert.deepEqual(undone, ['loop device', 'file']);
  });

  it('keeps undoing after an undo fails, and names what is left', async () => {
    const undone: string[] = [];
    await assert.rejects(
      withRollback(async (rollback) => {
        rollback.add('file /x', async () => undone.push('file'));
        rollback.add('mount at /m', async () => {
          throw new Error('target is busy');
        });
        throw new Error('mkdir failed');
      }),
      (error: { code?: string; leftovers?: string[]; cause?: Error }) => {
        assert.equal(error.code, 'STORAGE.ROLLBACK_INCOMPLETE');
        assert.deepEqual(error.leftovers, ['mount at /m (target is busy)']);
        assert.equal(error.cause?.message, 'mkdir failed');
        return true;
      },
    );
    assert.deepEqual(undone, ['file']);
  });

  it('returns the result and undoes nothing on success', async () => {
    let undone = false;
    const result = await withRollback(async (rollback) => {
      rollback.add('x', async () => (undone = true));
      return 42;
    });
    assert.equal(result, 42);
    assert.equal(undone, false);
  });
});
