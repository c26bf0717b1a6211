/**
 * Fakes of the ports instances' handlers are given, for their specs: each records what it was
 * asked, in one shared journal, so a spec can assert the order of the steps.
 */
import { EventEmitter } from 'node:events';
import type { EventBus, EventPublisher, IEvent } from '@nestjs/cqrs';
import type { WebSocket } from 'ws';
import type { Logger } from '#core';
import { WebsocketOperations, type OperationContext, type OperationRunner, type OperationView, type StartOperation } from '#operations';
import type { ProfileLayers } from '#profiles';
import type { HostCapacity } from '#quotas';
import { Instance, type InstanceState, type ResolvedProfiles } from '../domain/instance.js';
import { InstanceAlreadyExistsError, InstanceNotFoundError } from '../domain/instance.errors.js';
import type { InstanceRepository } from '../infrastructure/instance.repository.js';
import { ProfileResolver } from '../infrastructure/profile-resolver.js';

export const HOST: HostCapacity = { cpus: [0, 1], memoryBytes: 8n * 1024n ** 3n };

export const DEFAULT_PROFILE: ResolvedProfiles[number] = {
  name: 'default',
  config: {},
  devices: { root: { type: 'disk', path: '/', pool: 'default' }, eth0: { type: 'nic', network: 'berthbr0', name: 'eth0' } },
};

/** An instance as the repository would load it. */
export function instanceOf(name: string, state: Partial<InstanceState> = {}, profiles: ResolvedProfiles = [DEFAULT_PROFILE]): Instance {
  return Instance.restore(
    {
      name,
      description: '',
      architecture: 'x86_64',
      ephemeral: false,
      status: 'Stopped',
      config: {},
      devices: {},
      volatile: {},
      profiles: profiles.map((p) => p.name),
      imageFingerprint: null,
      createdAt: new Date(0),
      lastUsedAt: null,
      ...state,
    },
    profiles,
  );
}

/** What the fakes were asked, in order: `port.method` strings, with a detail where it matters. */
export class Journal {
  readonly steps: string[] = [];
  readonly published: IEvent[] = [];

  note(step: string): void {
    this.steps.push(step);
  }

  /** Names of the published events' classes. */
  get events(): string[] {
    return this.published.map((e) => e.constructor.name);
  }
}

/** The profiles an aggregate was given, kept with its record as the real repository keeps them. */
const resolvedOf = (instance: Instance) => (instance as unknown as { resolved: ResolvedProfiles }).resolved;

/** The instances' records: get() returns a fresh aggregate from the stored state, saveState() stores it. */
export function fakeRepository(journal: Journal, ...instances: Instance[]) {
  const stored = new Map(instances.map((i) => [i.name, { state: { ...i.state }, profiles: resolvedOf(i) }]));
  const repo = {
    stored,
    async get(name: string) {
      const found = stored.get(name);
      if (!found) throw new InstanceNotFoundError(name);
      return Instance.restore({ ...found.state, volatile: { ...found.state.volatile } }, found.profiles);
    },
    /** As the real one: a taken name is a conflict, and nothing is written. */
    async insert(instance: Instance) {
      if (stored.has(instance.name)) throw new InstanceAlreadyExistsError(instance.name);
      journal.note('repository.insert');
      stored.set(instance.name, { state: { ...instance.state }, profiles: resolvedOf(instance) });
    },
    async removeRecord(name: string) {
      journal.note('repository.removeRecord');
      stored.delete(name);
    },
    async saveState(instance: Instance) {
      journal.note(`repository.saveState ${instance.state.status}`);
      stored.get(instance.name)!.state = { ...instance.state };
    },
    /** As the real one: the change, then the host steps (afterWrite), all or nothing. */
    async change(name: string, fn: (i: Instance) => Promise<'save' | 'delete'>, options: { afterWrite?: (i: Instance) => Promise<void> } = {}) {
      const instance = await repo.get(name);
      const outcome = await fn(instance);
      await options.afterWrite?.(instance);
      if (outcome === 'delete') {
        journal.note('repository.delete');
        stored.delete(name);
      } else {
        journal.note('repository.save');
        stored.delete(name);
        stored.set(instance.name, { state: { ...instance.state }, profiles: resolvedOf(instance) });
      }
      return instance;
    },
    async withLock<T>(_name: string, fn: () => Promise<T>) {
      return fn();
    },
    /** By name, as the real one orders them. */
    async list() {
      return Promise.all([...stored.keys()].sort().map((n) => repo.get(n)));
    },
    async othersDevices(name: string) {
      return (await repo.list()).filter((i) => i.name !== name).map((i) => ({ name: i.name, devices: i.expanded.devices }));
    },
  };
  return repo as typeof repo & InstanceRepository;
}

/** Runs an operation's work at once; the result (or error) of the last one is kept. */
export class FakeOperations {
  started: StartOperation[] = [];
  last?: Promise<unknown>;

  asRunner(): OperationRunner {
    return this as unknown as OperationRunner;
  }

  async start(spec: StartOperation): Promise<OperationView> {
    this.started.push(spec);
    const ctx: OperationContext = { signal: new AbortController().signal, progress: async () => undefined };
    this.last = Promise.resolve().then(() => spec.run(ctx));
    this.last.catch(() => undefined);
    return { id: `op-${this.started.length}`, description: spec.description } as unknown as OperationView;
  }

  /** The outcome of the last operation's work. */
  outcome(): Promise<unknown> {
    return this.last ?? Promise.reject(new Error('no operation was started'));
  }

  /** The real websocket operations, started on this runner. */
  websockets(): WebsocketOperations {
    return new WebsocketOperations(this.asRunner());
  }
}

/** A client's end of a session socket: what berthd sent, and how it was closed. */
export class FakeSocket extends EventEmitter {
  readonly CONNECTING = 0;
  readonly OPEN = 1;
  readonly CLOSED = 3;
  readyState = this.OPEN;
  closeCode?: number;
  readonly sent: Buffer[] = [];

  send(data: Buffer, _options: { binary: boolean }, done?: (err?: Error) => void): void {
    this.sent.push(Buffer.from(data));
    done?.();
  }

  close(code?: number): void {
    if (this.readyState === this.CLOSED) return;
    this.readyState = this.CLOSED;
    this.closeCode = code;
    this.emit('close', code);
  }

  pause(): void {}

  resume(): void {}

  /** A frame from the client: a Buffer is binary, a string text. */
  receive(frame: Buffer | string): void {
    this.emit('message', Buffer.from(frame), typeof frame !== 'string');
  }

  /** Everything sent, as text. */
  get text(): string {
    return Buffer.concat(this.sent).toString('utf8');
  }
}

/** Connects a client socket to each of `fds` with the secrets `view` hands out. */
export function connectSockets(sessions: WebsocketOperations, view: OperationView, ...fds: string[]): Record<string, FakeSocket> {
  const secrets = view.metadata.fds as Record<string, string>;
  return Object.fromEntries(
    fds.map((fd) => {
      const socket = new FakeSocket();
      const accept = sessions.claim(view.id, secrets[fd] ?? '');
      if (!accept) throw new Error(`no secret for fd "${fd}"`);
      accept(socket as unknown as WebSocket);
      return [fd, socket];
    }),
  );
}

/** Published events go to the journal. */
export function fakeEventBus(journal: Journal): EventBus {
  return { publish: (event: IEvent) => journal.published.push(event) } as unknown as EventBus;
}

/** Commits go to the journal's published events. */
export function fakePublisher(journal: Journal): EventPublisher {
  return {
    mergeObjectContext: <T extends Instance>(i: T) => Object.assign(i, { commit: () => journal.published.push(...i.getUncommittedEvents().splice(0)) }),
  } as unknown as EventPublisher;
}

export const silentLogger = { info: () => undefined, warn: () => undefined, error: () => undefined, debug: () => undefined } as unknown as Logger;

/** The real resolver over fixed profiles (the profiles context's layers, faked). */
export function profileResolver(profiles: ResolvedProfiles = [DEFAULT_PROFILE]): ProfileResolver {
  return new ProfileResolver({ all: async () => profiles } as unknown as ProfileLayers);
}
