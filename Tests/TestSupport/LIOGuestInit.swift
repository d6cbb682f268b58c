// The /init of the LIO guest: a busybox shell script that loads the target modules, brings
// up the network, and then serves configfs requests from the host on the second serial port.
//
// The guest knows nothing about targets, LUNs or CHAP: `LIOTarget` sends every configfs
// change as a request, so the configuration lives in Swift and a failed write reaches the
// test as an error naming the path and the kernel's complaint.
//
// Requests, one per line on ttyS1:   SEQ VERB PATH [VALUE]
//   VERB is mkdir, rmdir, write, read, link (PATH -> VALUE), ping, reboot, or disk (PATH
//   is a virtio serial; the answer is its /dev node); PATH is relative to
//   /sys/kernel/config/target, VALUE is the rest of the line.
// Answers, one per line:             @SEQ ok [TEXT]  or  @SEQ err MESSAGE
// After every boot the guest announces itself unasked:  @0 booted KERNEL UPTIME

enum LIOGuestInit {
    /// Printed by the guest, on both serial ports, when something stops it from serving.
    static let failureMarker = "VDISKD-LIO-FAIL"

    static let script = #"""
#!/bin/sh
# vdiskd test guest: LIO (the kernel iSCSI target) driven over a serial control port.
export PATH=/sbin:/bin
umask 022
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mount -t tmpfs tmpfs /run
mount -t tmpfs tmpfs /tmp

CTL=/dev/ttyS1
CFG=/sys/kernel/config/target

die() {
    echo "VDISKD-LIO-FAIL: $*"
    echo "VDISKD-LIO-FAIL: $*" > $CTL
    dmesg | tail -n 20
    poweroff -f
    sleep 60
}

# target_core_mod chooses where persistent-reservation (APTPL) and ALUA metadata go when it
# loads: /etc/target if that exists. PROUT with APTPL=1 fails unless pr/ is writable there.
mkdir -p /etc/target/pr /etc/target/alua
KERNEL=$(uname -r)
while read -r module; do
    insmod "/lib/modules/$KERNEL/$module" 2>/dev/null || echo "vdiskd-lio: insmod $module failed"
done < /etc/vdiskd/modules
[ -d /sys/module/iscsi_target_mod ] || die "iscsi_target_mod did not load"
mount -t configfs none /sys/kernel/config || die "cannot mount configfs"
[ -d $CFG/core ] || die "$CFG/core is missing: target_core_mod did not register"
[ -d $CFG/iscsi ] || mkdir $CFG/iscsi || die "cannot register the iSCSI fabric in configfs"

ip link set lo up
ip link set eth0 up || die "no eth0: virtio_net did not load"
ip addr add 10.0.2.15/24 dev eth0
ip route add default via 10.0.2.2

[ -c $CTL ] || die "no control port $CTL"
stty -F $CTL raw -echo -ixon -ixoff 2>/dev/null || die "cannot set $CTL to raw mode"
exec 3<>$CTL

answer() { printf '@%s %s\n' "$1" "$2" >&3; }
# Why a configfs change failed, on one line: the shell's error and what the kernel logged
# since the request came in (the ring buffer is emptied before each request; the console
# keeps every message).
why() {
    shell=$(tr '\n' ' ' < /tmp/err)
    printf '%s; kernel: %s' "${shell:-the kernel refused it}" "$(dmesg | tail -n 4 | tr '\n' ' ')"
}

echo "vdiskd-lio: serving configfs requests on $CTL"
answer 0 "booted $KERNEL $(cut -d' ' -f1 /proc/uptime)"
while read -r seq verb path value <&3; do
    case "$seq" in ''|*[!0-9]*) continue ;; esac
    case "$path" in *..*) answer "$seq" "err path $path leaves configfs"; continue ;; esac
    full="$CFG/$path"
    dmesg -c > /dev/null
    case "$verb" in
        ping) answer "$seq" "ok $(cut -d' ' -f1 /proc/uptime)" ;;
        mkdir)
            if mkdir "$full" 2>/tmp/err; then answer "$seq" ok; else answer "$seq" "err $(why)"; fi ;;
        rmdir)
            if rmdir "$full" 2>/tmp/err; then answer "$seq" ok; else answer "$seq" "err $(why)"; fi ;;
        link)
            if ln -s "$CFG/$value" "$full" 2>/tmp/err; then answer "$seq" ok; else answer "$seq" "err $(why)"; fi ;;
        write)
            if { printf '%s' "$value" > "$full"; } 2>/tmp/err; then answer "$seq" ok; else answer "$seq" "err $(why)"; fi ;;
        read)
            if text=$(tr '\n' ' ' < "$full" 2>/tmp/err); then answer "$seq" "ok $text"; else answer "$seq" "err $(why)"; fi ;;
        disk)
            found=
            for attempt in 1 2 3 4 5 6 7 8 9 10; do
                for serial in /sys/block/vd*/serial; do
                    [ "$(cat "$serial" 2>/dev/null)" = "$path" ] && found=${serial%/serial} && break
                done
                [ -n "$found" ] && break
                sleep 1
            done
            if [ -n "$found" ]; then answer "$seq" "ok /dev/${found##*/}"; else answer "$seq" "err no virtio disk with serial $path"; fi ;;
        reboot)
            answer "$seq" ok
            echo b > /proc/sysrq-trigger ;;
        *) answer "$seq" "err unknown request $verb" ;;
    esac
done
die "control port $CTL closed"
"""#
}
