import { Inject, Injectable } from '@nestjs/common';
import { BERTH_CONFIG, LOGGER, type BerthConfig, type Logger } from '#core';
import { nicsOf, type Devices } from '../domain/nics.js';
import { proxyDeviceOf, stopProxies, syncProxies, type ProxyDevice } from '../infrastructure/proxy.js';

/**
 * An instance's `type=proxy` devices on the host: a berth-proxy per device relaying from the host
 * into the container's network namespace, or, with `nat=true`, the kernel's forwarding rules.
 */
@Injectable()
export class InstanceProxies {
  private readonly berthDir: string;

  constructor(@Inject(BERTH_CONFIG) config: BerthConfig, @Inject(LOGGER) private readonly log: Logger) {
    this.berthDir = config.BERTH_DIR;
  }

  /**
   * Refuses proxy devices Berth cannot run (bad addresses, bind=instance, nat=true without a
   * static nic address) with a ValidationError naming the device and key, before anything is recorded.
   */
  check(devices: Devices): void {
    proxiesOf(devices);
  }

  /**
   * Makes the running proxies of `instance` (whose init is `pid`) match the expanded `devices`: at
   * start, after a reboot inside, and when a running instance's devices change. All or nothing: a
   * listen address in use fails with a ProxyStartError naming the device and errno.
   */
  async sync(instance: string, pid: number, devices: Devices): Promise<void> {
    const { started, stopped } = await syncProxies({ berthDir: this.berthDir, instance, pid, devices: proxiesOf(devices) });
    if (started.length > 0 || stopped.length > 0) this.log.info({ instance, started, stopped }, 'proxies updated');
  }

  /** Stops every proxy of `instance`, relays and forwards (relays also end by themselves once init is gone). */
  stop(instance: string): Promise<void> {
    return stopProxies(this.berthDir, instance);
  }
}

/** The expanded `type=proxy` devices as Berth runs them, checked. */
function proxiesOf(devices: Devices): Record<string, ProxyDevice> {
  // nat=true forwards to a nic's static address (LXD's rule), so the proxies need the nics'.
  const nicAddresses = Object.fromEntries(
    nicsOf(devices)
      .filter((n) => n.spec['ipv4.address'])
      .map((n) => [n.device, { network: n.network, address: n.spec['ipv4.address']! }]),
  );
  return Object.fromEntries(
    Object.entries(devices)
      .filter(([, d]) => d.type === 'proxy')
      .map(([device, spec]) => [device, proxyDeviceOf(device, spec, nicAddresses)]),
  );
}
