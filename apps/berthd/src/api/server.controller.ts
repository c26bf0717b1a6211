import { Controller, Get, Inject } from '@nestjs/common';
import { sync } from '../http/envelope.js';
import { ServerInfo } from '../server-info.js';

@Controller()
export class ServerController {
  constructor(@Inject(ServerInfo) private readonly info: ServerInfo) {}

  @Get()
  root() {
    return sync(['/1.0']);
  }

  @Get('1.0')
  server() {
    return sync(this.info.describe());
  }
}
