import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseAllDocuments } from 'yaml';
import type { ServerEvent } from '../api.js';
import { parseEvent, parseTypes, renderEvent } from './monitor.js';

const created: ServerEvent = {
  type: 'lifecycle',
  timestamp: '2025-01-01T00:00:00Z',
  metadata: { action: 'profile-created', source: '/1.0/profiles/web', context: {} },
  location: 'none',
  project: 'default',
};

describe('renderEvent', () => {
  it('renders an event as a single line of JSON', () => {
    const line = renderEvent(created, 'json');
    assert.doesNotMatch(line, /\n/);
    assert.deepEqual(JSON.parse(line), created);
  });

  it('renders events as YAML documents that read back as a stream', () => {
    const stream = [created, { ...created, type: 'logging', metadata: { message: 'x' } }]
      .map((event) => renderEvent(event, 'yaml'))
      .join('\n');
    assert.deepEqual(
      parseAllDocuments(stream).map((doc) => doc.toJS()),
      [created, { ...created, type: 'logging', metadata: { message: 'x' } }],
    );
  });
});

describe('parseTypes', () => {
  it('splits a comma-separated list and drops blanks', () => {
    assert.deepEqual(parseTypes('lifecycle, operation,,logging '), ['lifecycle', 'operation', 'logging']);
  });
});

describe('parseEvent', () => {
  it('reads a JSON object', () => {
    assert.deepEqual(parseEvent(JSON.stringify(created)), created);
  });

  it('refuses text that is not a JSON object', () => {
    for (const text of ['not json', '[1]', 'null', '"x"']) assert.equal(parseEvent(text), undefined, text);
  });
});
