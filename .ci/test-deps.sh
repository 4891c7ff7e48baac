#!/usr/bin/env bash
# `npm run setup`: installs the Debian packages the test suite drives for real
# (iproute2 for namespaces and TAPs, ping, QEMU, busybox and cpio for the guest test,
# tcpdump, ethtool, iperf3 for the multi-host and VXLAN tests, vdeplug for the vxvde
# test's vde_plug, prometheus for promtool, which checks a
# scrape of /metrics, libsodium23 for keyed peering) when any is missing. Run by
# .ci/run and named in the README's test command; a no-op when all are present.
# `npm test` itself installs nothing.
set -euo pipefail
need=()
have() { command -v "$1" >/dev/null 2>&1; }
have ip || need+=(iproute2)
have ping || need+=(iputils-ping)
have qemu-system-x86_64 || need+=(qemu-system-x86)
[ -x /bin/busybox ] || need+=(busybox-static)
have cpio || need+=(cpio)
have dpkg-deb || need+=(dpkg)
have tcpdump || need+=(tcpdump)
have ethtool || need+=(ethtool)
have iperf3 || need+=(iperf3)
have vde_plug || need+=(vdeplug)
have promtool || need+=(prometheus)
# libsodium seals short peer datagrams of keyed switches (src/crypto/aead.ts; optional there, tested here).
ldconfig -p 2>/dev/null | grep -q 'libsodium\.so\.23 ' || need+=(libsodium23)
if [ ${#need[@]} -eq 0 ]; then exit 0; fi
if [ "$(id -u)" != 0 ] || ! have apt-get; then
  echo "test-deps: missing ${need[*]}; install them (Debian: apt-get install ${need[*]})" >&2
  exit 1
fi
echo "test-deps: installing ${need[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
# The prometheus package starts its server where systemd runs; the tests need only promtool.
case " ${need[*]} " in *" prometheus "*) systemctl disable --now prometheus >/dev/null 2>&1 || true ;; esac
