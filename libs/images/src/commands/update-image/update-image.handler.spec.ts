import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DomainError } from '#core';
import { ImageUpdatedEvent } from '../../events/image-events.js';
import { fingerprintOf, InMemoryImages, recordingEvents } from '../../testing/fakes.js';
import { UpdateImageCommand } from './update-image.command.js';
import { UpdateImageHandler } from './update-image.handler.js';

const FP = fingerprintOf('ab');
const EXPIRES = new Date('2030-01-01T00:00:00Z');

function setup() {
  const images = new InMemoryImages();
  const image = images.add(FP, [], { public: true, autoUpdate: true, properties: { os: 'debian', release: '12' }, expiresAt: EXPIRES });
  const events = recordingEvents();
  return { image, events, handler: new UpdateImageHandler(images.asRepository(), events.bus) };
}

const editable = ({ public: p, autoUpdate, properties, expiresAt }: { public: boolean; autoUpdate: boolean; properties: Record<string, string>; expiresAt: Date | null }) => ({ public: p, autoUpdate, properties, expiresAt });

describe('UpdateImageHandler', () => {
  it('PUT replaces public, auto_update and properties (absent: false and empty), keeps expires_at unless given', async () => {
    const { image, events, handler } = setup();
    await handler.execute(new UpdateImageCommand('ab', 'replace', { properties: { os: 'ubuntu' } }));
    assert.deepEqual(editable(image), { public: false, autoUpdate: false, properties: { os: 'ubuntu' }, expiresAt: EXPIRES });
    assert.deepEqual(events.published, [new ImageUpdatedEvent(FP)]);
  });

  it('PATCH merges properties and keeps what it is not given; the epoch as expires_at means never', async () => {
    const { image, handler } = setup();
    await handler.execute(new UpdateImageCommand(FP, 'merge', { properties: { variant: 'lamp' }, expires_at: '1970-01-01T00:00:00Z' }));
    assert.deepEqual(editable(image), { public: true, autoUpdate: true, properties: { os: 'debian', release: '12', variant: 'lamp' }, expiresAt: null });
  });

  it('refuses wrong types and unknown images, changing nothing and publishing nothing', async () => {
    const { image, events, handler } = setup();
    const before = editable({ ...image });
    const code = (expected: string, message: string) => (e: unknown) => e instanceof DomainError && e.code === expected && e.message === message;
    await assert.rejects(handler.execute(new UpdateImageCommand(FP, 'merge', { public: 'yes' })), code('REQUEST.INVALID', 'Invalid public: must be true or false'));
    await assert.rejects(handler.execute(new UpdateImageCommand(FP, 'merge', { auto_update: 1 })), code('REQUEST.INVALID', 'Invalid auto_update: must be true or false'));
    await assert.rejects(handler.execute(new UpdateImageCommand(FP, 'merge', { expires_at: 'soon' })), code('REQUEST.INVALID', 'Invalid expires_at: must be an RFC 3339 date'));
    await assert.rejects(handler.execute(new UpdateImageCommand(FP, 'replace', { properties: { os: 1 } })), (e: unknown) => e instanceof DomainError && e.code === 'REQUEST.INVALID');
    await assert.rejects(handler.execute(new UpdateImageCommand('cd', 'merge', {})), code('RESOURCE.NOT_FOUND', 'Image not found: "cd"'));
    assert.deepEqual(editable(image), before);
    assert.deepEqual(events.published, []);
  });
});
