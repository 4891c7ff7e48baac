// Tests for src/metrics/metrics-address.ts: `--metrics HOST:PORT` for IPv4, IPv6 in
// brackets and host names; anything else is refused with what to type. Pure units.

import test from 'ava';
import { formatMetricsAddress, parseMetricsAddress } from '../../src/metrics/metrics-address.js';

test('HOST:PORT with an IPv4 address, an IPv6 one in brackets, or a host name', (t) => {
  t.deepEqual(parseMetricsAddress('127.0.0.1:9470'), { host: '127.0.0.1', port: 9470 });
  t.deepEqual(parseMetricsAddress('[::1]:9470'), { host: '::1', port: 9470 });
  t.deepEqual(parseMetricsAddress('0.0.0.0:1'), { host: '0.0.0.0', port: 1 });
  t.deepEqual(parseMetricsAddress('metrics.lab-1.example:65535'), { host: 'metrics.lab-1.example', port: 65535 });
  t.is(formatMetricsAddress({ host: '::1', port: 9470 }), '[::1]:9470');
  t.is(formatMetricsAddress({ host: 'localhost', port: 9470 }), 'localhost:9470');
});

test('a bad address is refused with what is wrong and how to write it', (t) => {
  const why = (text: string): string => {
    try {
      parseMetricsAddress(text);
      return 'accepted';
    } catch (err) {
      return (err as Error).message.replace(/; give HOST:PORT, .*$/, '');
    }
  };
  t.is(why('localhost'), '--metrics "localhost": no port');
  t.is(why('::1:9470'), '--metrics "::1:9470": an IPv6 address goes in brackets');
  t.is(why(':9470'), '--metrics ":9470": no host');
  t.is(why('127.0.0.1:0'), '--metrics "127.0.0.1:0": the port must be a number 1..65535, got "0"');
  t.is(why('127.0.0.1:http'), '--metrics "127.0.0.1:http": the port must be a number 1..65535, got "http"');
  t.is(why('[127.0.0.1]:9470'), '--metrics "[127.0.0.1]:9470": "127.0.0.1" is not an address or a host name');
  t.is(why('bad_host!:9470'), '--metrics "bad_host!:9470": "bad_host!" is not an address or a host name');
  t.throws(() => parseMetricsAddress('x'), { message: /give HOST:PORT, e\.g\. 127\.0\.0\.1:9470, \[::1\]:9470, or 0\.0\.0\.0:9470 for every interface$/ });
});
