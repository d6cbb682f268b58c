// The shell half of building the LIO guest: unpack a Debian kernel package, pick the modules
// the target needs in load order, and pack them with busybox and the init into an initramfs.
// `LIOGuestImage` runs it in a fresh directory and moves the result into the cache.

enum LIOGuestBuild {
    /// Modules the guest loads, by name; their dependencies come first in the order
    /// `modprobe --show-depends` resolves on the unpacked tree. crc32c is listed because LIO
    /// sets up a CRC32C transform at every login, digests or not, and the guest has no
    /// module autoloading; crc32c-intel only speeds it up.
    static let modules = [
        "configfs", "target_core_mod", "target_core_file", "target_core_iblock", "iscsi_target_mod",
        "crc32c_generic", "crc32c_intel", "virtio_pci", "virtio_net", "virtio_blk",
    ]

    /// Arguments: DEB OUTPUT_DIR BUSYBOX INIT MODULE... ; writes vmlinuz, initramfs.cpio.gz
    /// and kernel-version into OUTPUT_DIR, which exists and holds nothing else but INIT.
    static let script = #"""
set -euo pipefail
deb=$1 out=$2 busybox=$3 init=$4
shift 4
tree=$out/kernel-tree root=$out/initramfs-root
mkdir -p "$tree" "$root"
dpkg-deb -x "$deb" "$tree"
version=$(ls "$tree/lib/modules")
[ -n "$version" ] && [ -r "$tree/boot/vmlinuz-$version" ] || { echo "$deb holds no kernel image" >&2; exit 1; }
depmod -b "$tree" "$version"

mkdir -p "$root"/{bin,sbin,proc,sys,dev,run,tmp,etc/vdiskd}
cp "$busybox" "$root/bin/busybox"
for applet in $("$root/bin/busybox" --list); do
    [ -e "$root/bin/$applet" ] || ln -s busybox "$root/bin/$applet"
done
for module in "$@"; do
    modprobe -d "$tree" -S "$version" --show-depends "$module" | awk '$1 == "insmod" { print $2 }'
done | awk '!seen[$0]++' | while read -r file; do
    relative=${file#"$tree/lib/modules/$version/"}
    mkdir -p "$root/lib/modules/$version/$(dirname "$relative")"
    cp "$file" "$root/lib/modules/$version/$relative"
    echo "$relative"
done > "$root/etc/vdiskd/modules"
grep -q iscsi_target_mod "$root/etc/vdiskd/modules" || { echo "$deb has no iscsi_target_mod" >&2; exit 1; }
install -m 0755 "$init" "$root/init"
(cd "$root" && find . -print0 | cpio --null -o -H newc --quiet) | gzip -6 > "$out/initramfs.cpio.gz"
cp "$tree/boot/vmlinuz-$version" "$out/vmlinuz"
echo "$version" > "$out/kernel-version"
rm -rf "$tree" "$root" "$init"
"""#
}
