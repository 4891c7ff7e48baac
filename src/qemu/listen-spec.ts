// ListenSpec: where a QEMU listener listens — a TCP host and port, or a UNIX socket
// path — and how one is written ("127.0.0.1:4000", "[::1]:4000", "unix:/run/vm.sock")
// in replies, logs and `show listeners`. Pure; used on the main and QEMU I/O threads.

import { formatHostPort } from '../linux/host-port.js';

/** A QEMU listener address: TCP host and port, or a UNIX socket path. */
export type ListenSpec = { kind: 'tcp'; host: string; port: number } | { kind: 'unix'; path: string };

/** "127.0.0.1:4000", "[::1]:4000" or "unix:/run/vm.sock". */
export function formatListenSpec(spec: ListenSpec): string {
  if (spec.kind === 'unix') return `unix:${spec.path}`;
  return formatHostPort(spec.host, spec.port);
}
