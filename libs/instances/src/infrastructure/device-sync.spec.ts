import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { NativeCallError, type DeviceMount, type Runtime } from '#runtime';
import { DeviceChangeError, syncDeviceMounts } from './device-sync.js';

/** A runtime that records the device calls and refuses to add the devices named in `refuse`. */
function recordingRuntime(refuse: string[] = []) {
  const calls: string[] = [];
  const runtime = {
    addDevice: async (_name: string, device: DeviceMount) => {
      if (refuse.includes(device.name)) throw new NativeCallError('open_tree(2) failed: ENOENT (device x)', 'open_tree', 2, 'ENOENT');
      calls.push(`add ${device.name}${device.readonly ? ' ro' : ''}`);
    },
    removeDevice: async (_name: string, device: string) => {
      calls.push(`remove ${device}`);
    },
  } as unknown as Runtime;
  return { runtime, calls };
}

describe('syncDeviceMounts', () => {
  const disk = (source: string, extra: Record<string, string> = {}) => ({ type: 'disk', source, path: source, ...extra });

  it('detaches removed and changed devices, then binds new and changed ones; nics and the root are left alone', async () => {
    const { runtime, calls } = recordingRuntime();
    await syncDeviceMounts(
      runtime,
      'c1',
      { root: { type: 'disk', path: '/', pool: 'default' }, gone: disk('/a'), same: disk('/b'), changed: disk('/c') },
      { root: { type: 'disk', path: '/', pool: 'default' }, same: disk('/b'), changed: disk('/c', { readonly: 'true' }), eth0: { type: 'nic', network: 'br' }, added: disk('/d') },
    );
    assert.deepEqual(calls, ['remove changed', 'remove gone', 'add added', 'add changed ro']);
  });

  it('undoes what it did, in reverse, when a step fails, and answers a DeviceChangeError naming the device', async () => {
    const { runtime, calls } = recordingRuntime(['worse']);
    await assert.rejects(
      syncDeviceMounts(runtime, 'c1', { old: disk('/a') }, { good: disk('/b'), worse: disk('/c') }),
      (err: unknown) => err instanceof DeviceChangeError && err.code === 'INSTANCE.DEVICE_FAILED' && err.message === 'Failed to change device "worse" of instance "c1": open_tree(2) failed: ENOENT (device x)',
    );
    assert.deepEqual(calls, ['remove old', 'add good', 'remove good', 'add old']);
  });

  it('returns the undo of a sync that went through', async () => {
    const { runtime, calls } = recordingRuntime();
    const undo = await syncDeviceMounts(runtime, 'c1', {}, { k: { type: 'unix-char', source: '/dev/kmsg' } });
    await undo();
    assert.deepEqual(calls, ['add k', 'remove k']);
  });
});
