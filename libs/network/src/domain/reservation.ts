import { ValidationError } from '#core';
import { broadcastOf, formatIpv4, formatSubnet, parseIpv4, subnetContains, type InterfaceAddress } from './ipv4.js';
import { parseMac } from './mac.js';

/**
 * A host dnsmasq knows by its MAC: it is given `name` in DNS, and `ipv4` when set (a static
 * reservation). Without `ipv4` the host gets a dynamic lease but still its own name, whatever
 * hostname the client asks for, so `<instance>.<domain>` always means that instance.
 */
export interface HostReservation {
  readonly mac: string;
  readonly name: string;
  readonly ipv4?: string;
}

const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/i;

/** Validates a reservation against the network's gateway; returns it normalized. */
export function validateReservation(reservation: HostReservation, gateway: InterfaceAddress): HostReservation {
  const mac = parseMac('mac', reservation.mac);
  if (!LABEL.test(reservation.name)) throw new ValidationError('name', `"${reservation.name}" is not a DNS label`);
  if (reservation.ipv4 === undefined) return { mac, name: reservation.name };
  const address = parseIpv4('ipv4.address', reservation.ipv4);
  if (!subnetContains(gateway.subnet, address)) throw new ValidationError('ipv4.address', `${reservation.ipv4} is outside ${formatSubnet(gateway.subnet)}`);
  if (address === gateway.address) throw new ValidationError('ipv4.address', `${reservation.ipv4} is the network's gateway`);
  if (address === gateway.subnet.network || address === broadcastOf(gateway.subnet)) {
    throw new ValidationError('ipv4.address', `${reservation.ipv4} is not a host address of ${formatSubnet(gateway.subnet)}`);
  }
  return { mac, name: reservation.name, ipv4: formatIpv4(address) };
}

/** The line dnsmasq reads from a dhcp-hostsdir file: what follows `dhcp-host=` in its config. */
export function reservationLine(reservation: HostReservation): string {
  return [reservation.mac, reservation.ipv4, reservation.name].filter((v) => v !== undefined).join(',');
}
