// Privileged-test gate for ava: tests that create TAPs and network namespaces need
// CAP_NET_ADMIN and CAP_SYS_ADMIN (root has both), the `ip` tool and /dev/net/tun.
// Runs in the ava test process (main thread). In CI (CI=true) a missing privilege fails
// the test with the reason; elsewhere the test is skipped with the reason in its title.

import test, { type ImplementationFn } from 'ava';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';

const CAP_SYS_ADMIN = 21n;
const CAP_NET_ADMIN = 12n;

export interface Privilege {
  ok: boolean;
  /** Why privileged tests cannot run here; empty when ok. */
  reason: string;
}

function effectiveCaps(): bigint {
  try {
    const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    return m ? BigInt(`0x${m[1]}`) : 0n;
  } catch {
    return 0n;
  }
}

/** Checks the capabilities (not just uid 0: a container's root can lack them), `ip` and /dev/net/tun. */
export function checkPrivilege(): Privilege {
  const missing: string[] = [];
  const caps = effectiveCaps();
  if ((caps & (1n << CAP_NET_ADMIN)) === 0n) missing.push('CAP_NET_ADMIN (run as root)');
  if ((caps & (1n << CAP_SYS_ADMIN)) === 0n) missing.push('CAP_SYS_ADMIN for `ip netns` (run as root)');
  if (!existsSync('/dev/net/tun')) missing.push('/dev/net/tun (modprobe tun)');
  try {
    execFileSync('ip', ['-V'], { stdio: 'ignore' });
  } catch {
    missing.push('the `ip` tool (iproute2)');
  }
  return { ok: missing.length === 0, reason: missing.length === 0 ? '' : `needs ${missing.join(', ')}` };
}

export const privileged: Privilege = checkPrivilege();

/**
 * Registers a serial test that uses real TAPs or namespaces. Serial, because such tests
 * change host state that other tests in the file may look at (device names, `ip` output).
 */
export function privTest(title: string, fn: ImplementationFn<[]>): void {
  if (privileged.ok) {
    test.serial(title, fn);
  } else if (process.env.CI === 'true') {
    test.serial(title, (t) => {
      t.fail(`privileged test cannot run in CI: ${privileged.reason}`);
    });
  } else {
    test.skip(`${title} [skipped: ${privileged.reason}]`, fn);
  }
}
