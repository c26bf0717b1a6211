import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ValidationError } from '#core';
import { checkProxyPair, parseProxyAddress } from './proxy-address.js';

const F = 'device["listen"]';
const refuses = (text: string, reason: string) =>
  assert.throws(() => parseProxyAddress(F, text), (e: unknown) => e instanceof ValidationError && e.message === `Invalid ${F}: ${reason}`);

describe('proxy addresses', () => {
  it('reads tcp, udp, ranges, lists, IPv6 and unix sockets', () => {
    assert.deepEqual(parseProxyAddress(F, 'tcp:0.0.0.0:8080'), { protocol: 'tcp', host: '0.0.0.0', family: 4, ports: [8080] });
    assert.deepEqual(parseProxyAddress(F, 'udp:127.0.0.1:53'), { protocol: 'udp', host: '127.0.0.1', family: 4, ports: [53] });
    assert.deepEqual(parseProxyAddress(F, 'tcp:0.0.0.0:8000-8003'), { protocol: 'tcp', host: '0.0.0.0', family: 4, ports: [8000, 8001, 8002, 8003] });
    assert.deepEqual(parseProxyAddress(F, 'tcp:0.0.0.0:80,443,8000-8001'), { protocol: 'tcp', host: '0.0.0.0', family: 4, ports: [80, 443, 8000, 8001] });
    assert.deepEqual(parseProxyAddress(F, 'tcp:[::1]:80'), { protocol: 'tcp', host: '::1', family: 6, ports: [80] });
    assert.deepEqual(parseProxyAddress(F, 'unix:/run/app.sock'), { protocol: 'unix', path: '/run/app.sock' });
    assert.deepEqual(parseProxyAddress(F, 'unix:@abstract'), { protocol: 'unix', path: '@abstract' });
  });
  it('refuses malformed addresses', () => {
    refuses('0.0.0.0:8080', '"0.0.0.0:8080" must start with tcp:, udp: or unix:');
    refuses('sctp:0.0.0.0:80', '"sctp:0.0.0.0:80" must start with tcp:, udp: or unix:');
    refuses('tcp:0.0.0.0', '"tcp:0.0.0.0" must be tcp:<address>:<port> (IPv6 in brackets)');
    refuses('tcp:::1:80', '"tcp:::1:80" must be tcp:<address>:<port> (IPv6 in brackets)');
    refuses('tcp:0.0.0.256:80', 'octet 256 is greater than 255');
    refuses('tcp:localhost:80', 'must be four dot-separated numbers');
    refuses('tcp:0.0.0.0:0', 'port 0 is outside 1-65535');
    refuses('tcp:0.0.0.0:65536', 'port 65536 is outside 1-65535');
    refuses('tcp:0.0.0.0:http', '"http" is not a port number');
    refuses('tcp:0.0.0.0:8010-8000', 'port range 8010-8000 ends before it starts');
    refuses('tcp:0.0.0.0:80-90-100', '"80-90-100" is not a port or a port range');
    refuses('tcp:0.0.0.0:80,80', 'a port is listed twice');
    refuses('tcp:[zz::1]:80', '"zz::1" is not an IPv6 address');
    refuses('unix:relative.sock', 'a unix address must be an absolute path or @abstract-name');
  });
  it('checks that listen and connect fit together', () => {
    const p = (t: string) => parseProxyAddress(F, t);
    checkProxyPair(p('tcp:0.0.0.0:8000-8002'), p('tcp:127.0.0.1:80'));
    checkProxyPair(p('tcp:0.0.0.0:8000-8002'), p('tcp:127.0.0.1:80-82'));
    checkProxyPair(p('unix:/run/a.sock'), p('tcp:127.0.0.1:80'));
    assert.throws(() => checkProxyPair(p('tcp:0.0.0.0:8000-8002'), p('tcp:127.0.0.1:80-81')), { message: 'Invalid device["connect"]: must name one port or 3 ports to match listen' });
    assert.throws(() => checkProxyPair(p('udp:0.0.0.0:53'), p('tcp:127.0.0.1:53')), { message: 'Invalid device["connect"]: cannot relay udp to tcp' });
  });
});
