import 'reflect-metadata';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { CqrsModule, EventBus, EventsHandler, UnhandledExceptionBus, type IEventHandler } from '@nestjs/cqrs';
import { LOGGER, type Logger } from '#core';
import { UnhandledExceptionsLog } from './unhandled-exceptions.js';

class WidgetRenamedEvent {
  constructor(readonly oldName: string, readonly name: string) {}
}

@EventsHandler(WidgetRenamedEvent)
class FailingHandler implements IEventHandler<WidgetRenamedEvent> {
  handle(): void {
    throw Object.assign(new Error('the hub is closed'), { code: 'EPIPE' });
  }
}

function fakeLogger() {
  const errors: Array<{ fields: Record<string, unknown>; message: string }> = [];
  const logger = { error: (fields: Record<string, unknown>, message: string) => errors.push({ fields, message }) } as unknown as Logger;
  return { logger, errors };
}

describe('UnhandledExceptionsLog', () => {
  it('logs an event handler that throws, with the event name and payload, once the app started', async () => {
    const { logger, errors } = fakeLogger();
    @Module({ imports: [CqrsModule.forRoot()], providers: [FailingHandler, UnhandledExceptionsLog, { provide: LOGGER, useValue: logger }] })
    class AppUnderTest {}
    const app = await NestFactory.createApplicationContext(AppUnderTest, { logger: false });
    try {
      app.get(EventBus).publish(new WidgetRenamedEvent('a', 'b'));
      await new Promise((resolve) => setImmediate(resolve));
      assert.equal(errors.length, 1);
      const { fields, message } = errors[0]!;
      assert.equal(message, 'an event handler failed');
      assert.equal(fields.event, 'WidgetRenamedEvent');
      assert.deepEqual(fields.payload, { oldName: 'a', name: 'b' });
      assert.deepEqual([(fields.err as Error).message, (fields.err as { code: string }).code], ['the hub is closed', 'EPIPE']);
      assert.match((fields.err as Error).stack!, /FailingHandler\.handle/);
    } finally {
      await app.close();
    }
  });

  it('names the saga when a saga failed, and stops listening when the module is destroyed', () => {
    const { logger, errors } = fakeLogger();
    const bus = new UnhandledExceptionBus();
    const log = new UnhandledExceptionsLog(bus, logger);
    log.onModuleInit();
    bus.publish({ cause: 'instanceStarted', exception: 'not an Error' } as never);
    log.onModuleDestroy();
    bus.publish({ cause: 'instanceStarted', exception: new Error('after the end') } as never);
    assert.deepEqual(errors, [{ fields: { event: 'instanceStarted', payload: undefined, err: 'not an Error' }, message: 'an event handler failed' }]);
  });
});
