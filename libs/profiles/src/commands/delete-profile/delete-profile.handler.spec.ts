import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { EventPublisher } from '@nestjs/cqrs';
import { Profile } from '../../domain/profile.js';
import { ProfileUsage } from '../../domain/profile-usage.js';
import { ProfileInUseError } from '../../domain/profile.errors.js';
import type { ProfileRepository } from '../../infrastructure/profile.repository.js';
import { DeleteProfileCommand } from './delete-profile.command.js';
import { DeleteProfileHandler } from './delete-profile.handler.js';

class FixedUsage extends ProfileUsage {
  constructor(private readonly users: Record<string, string[]>) {
    super(undefined as never);
  }
  override async usage() {
    return new Map(Object.entries(this.users));
  }
}

function fakeRepository(names: string[]) {
  const deleted: string[] = [];
  const repo = {
    change: async (name: string, fn: (p: Profile) => Promise<'save' | 'delete'>) => {
      if (!names.includes(name)) throw new Error('not found');
      const p = Profile.restore({ name, description: '', config: {}, devices: {} });
      if ((await fn(p)) === 'delete') deleted.push(name);
      return p;
    },
  };
  return { repo: repo as unknown as ProfileRepository, deleted };
}

const published: unknown[] = [];
const publisher = { mergeObjectContext: <T extends Profile>(p: T) => Object.assign(p, { commit: () => published.push(...p.getUncommittedEvents()) }) } as unknown as EventPublisher;

describe('DeleteProfileHandler', () => {
  it('refuses a profile in use, naming its users, and deletes nothing', async () => {
    const { repo, deleted } = fakeRepository(['web']);
    const handler = new DeleteProfileHandler(repo, new FixedUsage({ web: ['/1.0/instances/c1'] }), publisher);
    await assert.rejects(handler.execute(new DeleteProfileCommand('web')), (e: unknown) => e instanceof ProfileInUseError && e.usedBy[0] === '/1.0/instances/c1');
    assert.deepEqual(deleted, []);
  });

  it('deletes an unused profile and publishes profile-deleted', async () => {
    const { repo, deleted } = fakeRepository(['web']);
    published.length = 0;
    await new DeleteProfileHandler(repo, new FixedUsage({}), publisher).execute(new DeleteProfileCommand('web'));
    assert.deepEqual(deleted, ['web']);
    assert.equal(published.length, 1);
  });
});
