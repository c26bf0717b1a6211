import { Injectable } from '@nestjs/common';

/**
 * The init each running instance's nics, proxies and limits were set up for by this daemon;
 * none for an instance it did not set up (a daemon just started). Another pid than the
 * container's means the container rebooted from inside: its monitor gave it a new init, in a new
 * network namespace and a new cgroup.
 */
@Injectable()
export class PluggedInits {
  private readonly inits = new Map<string, number>();

  of(name: string): number | undefined {
    return this.inits.get(name);
  }

  set(name: string, pid: number): void {
    this.inits.set(name, pid);
  }

  forget(name: string): void {
    this.inits.delete(name);
  }
}
