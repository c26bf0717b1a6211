import 'reflect-metadata';
import { Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { CommandHandler, CqrsModule, Command, CommandBus, ICommandHandler } from '@nestjs/cqrs';
import { hello } from '#core';
@Injectable() class Svc { greet(n: string) { return hello(n); } }
class Greet extends Command<string> { constructor(readonly n: string) { super(); } }
@CommandHandler(Greet) class GreetHandler implements ICommandHandler<Greet> { constructor(private readonly s: Svc) {} async execute(c: Greet) { return this.s.greet(c.n); } }
@Module({ imports: [CqrsModule.forRoot()], providers: [Svc, GreetHandler] }) class M {}
const app = await NestFactory.createApplicationContext(M, { logger: false });
await app.init();
console.log(await app.get(CommandBus).execute(new Greet('x')));
await app.close();
