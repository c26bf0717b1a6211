import { Inject, Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { UnhandledExceptionBus, type UnhandledExceptionInfo } from '@nestjs/cqrs';
import type { Subscription } from 'rxjs';
import { LOGGER, type Logger } from '#core';

/**
 * An event handler that throws does not reach any caller: @nestjs/cqrs hands the error to the
 * UnhandledExceptionBus and goes on. This logs each one with the event's name and payload, so
 * that a lifecycle event lost to a bug shows in the daemon's log.
 */
@Injectable()
export class UnhandledExceptionsLog implements OnModuleInit, OnModuleDestroy {
  private subscription?: Subscription;

  constructor(private readonly bus: UnhandledExceptionBus, @Inject(LOGGER) private readonly log: Logger) {}

  onModuleInit(): void {
    this.subscription = this.bus.subscribe((info) => this.record(info));
  }

  onModuleDestroy(): void {
    this.subscription?.unsubscribe();
  }

  private record({ cause, exception }: UnhandledExceptionInfo): void {
    const err = exception instanceof Error ? { message: exception.message, stack: exception.stack, ...('code' in exception && { code: exception.code }) } : exception;
    // A saga's failure carries the saga's name instead of a message.
    const event = typeof cause === 'object' && cause !== null ? cause.constructor.name : String(cause);
    const payload = typeof cause === 'object' && cause !== null ? { ...cause } : undefined;
    this.log.error({ event, payload, err }, 'an event handler failed');
  }
}
