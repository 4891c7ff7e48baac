// HOST:PORT as DiVES writes an address and port everywhere — in `show` output, logs,
// port names and the running-config: "10.0.0.2:3333", and an IPv6 address in brackets,
// "[fd00::2]:3333", so the port cannot be read as part of it. Pure; any thread.

/** "10.0.0.2:3333", or "[fd00::2]:3333" for an IPv6 address. */
export function formatHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
