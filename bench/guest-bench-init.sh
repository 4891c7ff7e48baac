#!/bin/busybox sh
# /init of the bench guest (busybox sh, PID 1 inside QEMU), packed by bench/topology-qemu.ts
# into a copy of the test guest's initramfs with /bench.conf beside it. Brings eth0 up
# like the test guest, then either serves a bulk TCP sink or, on the client, measures.
#
# /bench.conf (shell): client_ip= seconds= pings= port=. The guest whose dives.ip
# address is client_ip is the client; the other is the server. Markers on the console:
#   BENCH-READY <role> <ip>          eth0 is up (the server's sink listens already)
#   BENCH-RTT <min>/<avg>/<max>/<median> ms   client: ping -c pings -i 0.02 to the peer
#   BENCH-BULK-SECONDS <s>           client: dd from /dev/zero into nc for `seconds`
#   BENCH-BULK-BYTES <n>             server: bytes the sink received before EOF
#   BENCH-DONE / BENCH-ERROR <why>

export PATH=/bin
mount -t devtmpfs devtmpfs /dev 2>/dev/null
exec </dev/console >/dev/console 2>&1
mount -t proc proc /proc
mount -t sysfs sysfs /sys
echo

fail() {
  echo "BENCH-ERROR $*"
  sleep 600
  poweroff -f
}

client_ip=""
seconds=5
pings=50
port=5001
. /bench.conf || fail "no /bench.conf"
ip_cidr=""
peer=""
wait_s=60
for word in $(cat /proc/cmdline); do
  case "$word" in
    dives.ip=*) ip_cidr="${word#*=}" ;;
    dives.peer=*) peer="${word#*=}" ;;
    dives.wait=*) wait_s="${word#*=}" ;;
  esac
done
[ -n "$ip_cidr" ] || fail "no dives.ip= on the kernel command line"
[ -n "$peer" ] || fail "no dives.peer= on the kernel command line"
addr="${ip_cidr%/*}"

while read -r mod; do
  [ -n "$mod" ] || continue
  insmod "/lib/modules/$mod.ko" || fail "insmod $mod failed"
done < /lib/modules/load-order
tries=0
while [ ! -e /sys/class/net/eth0 ]; do
  tries=$((tries + 1))
  [ "$tries" -le 100 ] || fail "eth0 did not appear"
  usleep 50000
done
ip link set lo up
ip addr add "$ip_cidr" dev eth0 || fail "cannot add $ip_cidr to eth0"
ip link set eth0 up || fail "cannot bring eth0 up"

now() { cut -d' ' -f1 /proc/uptime; }

if [ "$addr" != "$client_ip" ]; then
  # The sink's stdin must never reach EOF: busybox nc quits on EOF of either side.
  (sleep 100000 | nc -l -p "$port" | wc -c | sed 's/^ */BENCH-BULK-BYTES /') &
  echo "BENCH-READY server $addr"
  # The kernel answers pings and feeds the sink while this shell sleeps; the bench kills QEMU.
  sleep 100000
  poweroff -f
fi

echo "BENCH-READY client $addr"
start=$(cut -d. -f1 /proc/uptime)
until ping -c 1 -W 1 "$peer" >/dev/null 2>&1; do
  [ $(($(cut -d. -f1 /proc/uptime) - start)) -lt "$wait_s" ] || fail "no reply from $peer within $wait_s s"
  usleep 200000
done
# A few more round trips so ARP and the switch's fdb are settled before timing.
ping -c 5 -i 0.2 -q "$peer" >/dev/null 2>&1
ping -c "$pings" -i 0.02 "$peer" > /tmp/ping.out 2>&1
rtt=$(sed -n 's/^round-trip min\/avg\/max = \([0-9.\/]*\) ms$/\1/p' /tmp/ping.out)
[ -n "$rtt" ] || fail "ping gave no round-trip line"
# The median, because under TCG on a busy host a few late replies swing the mean.
median=$(sed -n 's/.*time=\([0-9.]*\) ms.*/\1/p' /tmp/ping.out | sort -n | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)] }')
echo "BENCH-RTT $rtt/$median ms"
t0=$(now)
timeout "$seconds" dd if=/dev/zero bs=65536 2>/dev/null | nc "$peer" "$port"
t1=$(now)
echo "BENCH-BULK-SECONDS $(echo "$t1 $t0" | awk '{ printf "%.2f", $1 - $2 }')"
echo "BENCH-DONE"
sleep 100000
poweroff -f
