// The peer socket: the one UDP socket on -h:-p every peer's datagrams cross, bound by
// the main thread (so a bind error is reported at start, and a restarted peer I/O
// thread takes over the same socket) with kernel buffers sized for bursts, and a
// warning when the kernel gives less. Main thread; src/peer/peer-io.ts serves it.

import { DivesError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import { UdpSocket } from '../linux/udp-socket.js';
import { formatHostPort } from '../linux/host-port.js';

/** Where the peer socket binds: -h resolved, and -p. */
export interface PeerBind {
  address: string;
  port: number;
  family: 'udp4' | 'udp6';
}

/** The kernel buffer asked for each way: room for a flood or a TCP window toward peers. */
export const PEER_SOCKET_BUFFER = 4 << 20;

/** Bind the peer socket. Throws DivesError('ELISTEN') naming the address when it cannot be bound. */
export function bindPeerSocket(bind: PeerBind, log: Logger): UdpSocket {
  let sock: UdpSocket;
  try {
    sock = UdpSocket.bind(bind.family, bind.address, bind.port, PEER_SOCKET_BUFFER);
  } catch (err) {
    const where = formatHostPort(bind.address, bind.port);
    const why = err instanceof Error ? err.message : String(err);
    throw new DivesError('ELISTEN', `cannot bind the peer socket on UDP ${where}: ${why}; choose another -h or -p`);
  }
  // Linux reports twice what it granted (half is bookkeeping); less than that was capped
  // by net.core.wmem_max / rmem_max, which only a process with CAP_NET_ADMIN may exceed.
  for (const [what, got, sysctl] of [['send', sock.sendBuffer, 'wmem_max'], ['receive', sock.receiveBuffer, 'rmem_max']] as const) {
    if (got < 2 * PEER_SOCKET_BUFFER) {
      log.warn(`peer socket: the kernel gave a ${what} buffer of ${got} bytes, not the ${2 * PEER_SOCKET_BUFFER} asked for; bursts toward peers may be dropped (raise net.core.${sysctl}, or run as root)`);
    }
  }
  return sock;
}
