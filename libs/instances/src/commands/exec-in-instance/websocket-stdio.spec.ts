import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseControl } from './websocket-stdio.js';

describe('parseControl (LXD control socket messages)', () => {
  it('reads window-resize with string sizes, as lxc sends them', () => {
    assert.deepEqual(parseControl('{"command":"window-resize","args":{"width":"132","height":"43"}}'), { command: 'window-resize', rows: 43, cols: 132 });
  });

  it('reads a signal', () => {
    assert.deepEqual(parseControl('{"command":"signal","signal":15}'), { command: 'signal', signal: 15 });
    assert.deepEqual(parseControl('{"command":"signal","signal":64,"args":{}}'), { command: 'signal', signal: 64 });
  });

  it('ignores what it cannot act on', () => {
    for (const text of [
      'not json',
      'null',
      '[]',
      '{"command":"window-resize","args":{"width":"0","height":"24"}}',
      '{"command":"window-resize","args":{"width":"80x","height":"24"}}',
      '{"command":"window-resize","args":{"width":"99999","height":"24"}}',
      '{"command":"window-resize"}',
      '{"command":"signal","signal":0}',
      '{"command":"signal","signal":65}',
      '{"command":"signal","signal":"9"}',
      '{"command":"signal","signal":9.5}',
      '{"command":"end"}',
    ]) {
      assert.equal(parseControl(text), undefined, text);
    }
  });
});
