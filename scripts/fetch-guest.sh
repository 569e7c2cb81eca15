#!/usr/bin/env bash
# Fetches the Linux guest that rvkvm's boot tests run: Debian's own riscv64 kernel and a small busybox
# initramfs built from Debian's busybox-static. Outputs, in ${RVKVM_CACHE:-$HOME/.cache/rvkvm}:
#   Image              the kernel, a flat RISC-V Image (Debian's has a PE/EFI header folded in)
#   initramfs.cpio.gz  busybox, /init (scripts/guest/init), /tests/*.sh, the virtio modules
#   kernel-version     the kernel's release string (uname -r in the guest)
#   packages.txt       the Debian packages (name version) the outputs came from
#   root/              the packages, extracted (the kernel's config and every module are there)
#
# Packages come from Debian 13 "trixie" main (riscv64), through a private apt tree under the cache
# folder: the system's apt configuration and sources are not read or changed. The only system
# change is installing debian-archive-keyring, xz-utils, cpio and zstd with apt-get if missing.
#
# Idempotent: the download happens once (a stamp marks a complete extraction); Image and the
# initramfs are rebuilt only when missing or older than their inputs, without network access.
#   --refresh   download the packages again (newest trixie versions) and rebuild everything
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
GUEST=$HERE/guest
CACHE=${RVKVM_CACHE:-$HOME/.cache/rvkvm}
SUITE=trixie
MIRROR=http://deb.debian.org/debian
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg

refresh=0
for a in "$@"; do
  case "$a" in
    --refresh) refresh=1 ;;
    -h|--help) sed -n '2,16p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "fetch-guest: unknown argument: $a" >&2; exit 2 ;;
  esac
done

log() { echo "fetch-guest: $*" >&2; }
die() { echo "fetch-guest: error: $*" >&2; exit 1; }

mkdir -p "$CACHE"
CACHE=$(cd "$CACHE" && pwd)
APTDIR=$CACHE/apt          # the private apt tree
DEBS=$CACHE/debs           # the downloaded .deb files
ROOT=$CACHE/root           # the packages, extracted
STAMP=$ROOT/.complete      # written last: the extraction is complete
IMAGE=$CACHE/Image
INITRD=$CACHE/initramfs.cpio.gz

# One run at a time per cache folder.
exec 9>"$CACHE/.lock"
flock 9

# --- host tools: installed with the system's apt only when missing ---------------------------------
need_pkgs=()
[[ -f $KEYRING ]] || need_pkgs+=(debian-archive-keyring)
command -v xz >/dev/null || need_pkgs+=(xz-utils)
command -v cpio >/dev/null || need_pkgs+=(cpio)
command -v zstd >/dev/null || need_pkgs+=(zstd)
if ((${#need_pkgs[@]})); then
  log "installing ${need_pkgs[*]} (system apt-get)"
  SUDO=; [[ $(id -u) -eq 0 ]] || SUDO=sudo
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get install -y -qq --no-install-recommends "${need_pkgs[@]}" >/dev/null ||
    { $SUDO apt-get update -qq && $SUDO apt-get install -y -qq --no-install-recommends "${need_pkgs[@]}" >/dev/null; }
fi

# --- download and extract (the only step that uses the network) -----------------------------------
fetch_packages() {
  mkdir -p "$APTDIR"/etc/apt/{apt.conf.d,preferences.d,trusted.gpg.d,sources.list.d} \
           "$APTDIR"/var/lib/apt/lists/partial "$APTDIR"/var/cache/apt/archives/partial
  touch "$APTDIR/status"
  # APT_CONFIG is read before anything else, and its Dir points every other lookup (apt.conf.d,
  # sources, lists, cache) into the private tree: no system hook or source is involved.
  cat >"$APTDIR/apt.conf" <<CONF
Dir "$APTDIR/";
Dir::State::status "$APTDIR/status";
APT::Architecture "riscv64";
APT::Architectures { "riscv64"; };
APT::Sandbox::User "root";
Acquire::Languages "none";
CONF
  echo "deb [arch=riscv64 signed-by=$KEYRING] $MIRROR $SUITE main" >"$APTDIR/etc/apt/sources.list"
  local apt_opts=(-o "Dir=$APTDIR/" -o "Dir::State::status=$APTDIR/status"
                  -o APT::Architecture=riscv64 -o APT::Architectures=riscv64)
  export APT_CONFIG=$APTDIR/apt.conf

  log "apt-get update ($SUITE main riscv64, private tree $APTDIR)"
  apt-get "${apt_opts[@]}" -qq update

  # linux-image-riscv64 is the metapackage; the kernel is in the versioned package it depends on
  # (linux-image-<abi>-riscv64, or -riscv64-unsigned on releases that sign the kernel).
  local kpkg
  kpkg=$(apt-cache "${apt_opts[@]}" depends --no-recommends --no-suggests linux-image-riscv64 |
         sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*-riscv64\(-unsigned\)\{0,1\}\)$/\1/p' | head -n1)
  [[ -n $kpkg ]] || die "cannot resolve the kernel package linux-image-riscv64 depends on"
  local pkgs=(linux-image-riscv64 "$kpkg" busybox-static)

  rm -rf "$DEBS" "$ROOT"
  mkdir -p "$DEBS" "$ROOT"
  log "apt-get download ${pkgs[*]}"
  (cd "$DEBS" && apt-get "${apt_opts[@]}" -qq download "${pkgs[@]}")

  : >"$CACHE/packages.txt.tmp"
  local p deb
  for p in "${pkgs[@]}"; do
    deb=$(ls "$DEBS/${p}"_*_riscv64.deb 2>/dev/null | head -n1) || true
    [[ -n $deb ]] || die "downloaded no .deb for $p"
    dpkg-deb -x "$deb" "$ROOT"
    echo "$p $(dpkg-deb -f "$deb" Version)" >>"$CACHE/packages.txt.tmp"
  done
  mv "$CACHE/packages.txt.tmp" "$CACHE/packages.txt"
  touch "$STAMP"
  # Only the extracted tree is used from here on: drop the .debs and the package lists (~240 MB).
  rm -rf "$DEBS" "$APTDIR"/var/lib/apt/lists "$APTDIR"/var/cache/apt
}

if ((refresh)) || [[ ! -f $STAMP ]]; then
  fetch_packages
fi

# --- the kernel ------------------------------------------------------------------------------------
# /usr/lib/modules/<release> (merged /usr in trixie; /lib/modules on older releases)
MODBASE=
for d in "$ROOT"/usr/lib/modules/* "$ROOT"/lib/modules/*; do
  [[ -d $d/kernel ]] && { MODBASE=$d; break; }
done
[[ -n $MODBASE ]] || die "no kernel modules folder in $ROOT"
KVER=$(basename "$MODBASE")

# $1 is at least as new as every later argument (all must exist)
up_to_date() {
  local out=$1 f; shift
  [[ -e $out ]] || return 1
  for f in "$@"; do [[ $out -nt $f || ! $f -nt $out ]] || return 1; done
}

has_riscv_magic() { [[ $(dd if="$1" bs=1 skip=56 count=4 2>/dev/null | od -An -tx1 | tr -d ' \n') == 52534305 ]]; }

if ! up_to_date "$IMAGE" "$STAMP"; then
  src=
  for f in "$ROOT/boot/vmlinux-$KVER" "$ROOT/boot/vmlinuz-$KVER"; do [[ -f $f ]] && { src=$f; break; }; done
  [[ -n $src ]] || die "no /boot/vmlinu[xz]-$KVER in the kernel package"
  case $(od -An -tx1 -N4 "$src" | tr -d ' \n') in
    1f8b*)    gzip -dc "$src" >"$IMAGE.tmp" ;;       # gzip
    fd377a58) xz -dc "$src" >"$IMAGE.tmp" ;;         # xz
    28b52ffd) zstd -qdc "$src" >"$IMAGE.tmp" ;;      # zstd
    *)        cp "$src" "$IMAGE.tmp" ;;              # flat Image (with or without the PE header)
  esac
  has_riscv_magic "$IMAGE.tmp" || die "$src is not a RISC-V Image (no \"RSC\\x05\" at offset 56)"
  mv "$IMAGE.tmp" "$IMAGE"
  echo "$KVER" >"$CACHE/kernel-version"
fi

# --- the initramfs ---------------------------------------------------------------------------------
# The modules named in scripts/guest/modules (comments and blank lines ignored), plus everything they
# depend on, in load order. A name that the kernel has built in (modules.builtin) is skipped.
mod_path() { # name -> the module file under $MODBASE/kernel, or nothing
  local n=$1 alt=${1//_/-}
  find "$MODBASE/kernel" -type f \( -name "$n.ko*" -o -name "$alt.ko*" \) -print -quit
}
mod_cat() { # module file -> its uncompressed bytes on stdout
  case $1 in
    *.ko.xz) xz -dc "$1" ;; *.ko.zst) zstd -qdc "$1" ;; *.ko.gz) gzip -dc "$1" ;; *) cat "$1" ;;
  esac
}
is_builtin() { grep -qE "/($1|${1//_/-})\.ko\$" "$MODBASE/modules.builtin"; }

declare -A seen=()
order=()      # module names, dependencies first
builtin=()
visit() {
  local n=$1 f dep
  [[ -z ${seen[$n]:-} ]] || return 0
  seen[$n]=1
  f=$(mod_path "$n")
  if [[ -z $f ]]; then
    if is_builtin "$n"; then builtin+=("$n"); return 0; fi
    die "module $n is neither in $MODBASE/kernel nor in modules.builtin"
  fi
  for dep in $(mod_cat "$f" | tr '\0' '\n' | sed -n 's/^depends=//p' | head -n1 | tr ',' ' '); do
    visit "$dep"
  done
  order+=("$n")
}

initrd_inputs=("$STAMP" "${BASH_SOURCE[0]}")
while IFS= read -r -d '' f; do initrd_inputs+=("$f"); done < <(find "$GUEST" -print0)

if ! up_to_date "$INITRD" "${initrd_inputs[@]}"; then
  busybox=$ROOT/bin/busybox
  [[ -f $busybox ]] || busybox=$ROOT/usr/bin/busybox
  [[ -f $busybox ]] || die "no busybox in busybox-static"

  STAGE=$CACHE/initramfs
  rm -rf "$STAGE"
  mkdir -p "$STAGE"/{bin,sbin,usr/bin,usr/sbin,dev,proc,sys,tmp,mnt,root,etc,lib/modules,tests,www}
  install -m 755 "$busybox" "$STAGE/bin/busybox"
  # The applets the scripts use; /init also runs `busybox --install -s` for all the others.
  for a in sh ash cat echo ls mkdir mount umount insmod rmmod lsmod modprobe poweroff reboot halt \
           sync sleep dd head tail tr cut sed grep awk seq wc sha256sum md5sum gzip gunzip zcat \
           wget httpd nc ifconfig ip route udhcpc ping setsid cttyhack nproc dmesg uname date \
           ps kill free df hexdump od printf test true false time env clear stty; do
    ln -s busybox "$STAGE/bin/$a"
  done

  while read -r name _; do
    [[ -z $name || $name == \#* ]] || visit "$name"
  done <"$GUEST/modules"
  : >"$STAGE/lib/modules/load-order"
  for n in "${order[@]}"; do
    mod_cat "$(mod_path "$n")" >"$STAGE/lib/modules/$n.ko"
    echo "$n" >>"$STAGE/lib/modules/load-order"
  done

  install -m 755 "$GUEST/init" "$STAGE/init"
  for f in "$GUEST"/tests/*; do
    case $f in */lib.sh) install -m 644 "$f" "$STAGE/tests/" ;; *) install -m 755 "$f" "$STAGE/tests/" ;; esac
  done
  install -m 644 "$GUEST"/www/* "$STAGE/www/"
  echo "root:x:0:0:root:/root:/bin/sh" >"$STAGE/etc/passwd"
  echo "root:x:0:" >"$STAGE/etc/group"
  echo rvkvm >"$STAGE/etc/hostname"

  # Owned by root in the archive whoever builds it; fixed timestamps make it reproducible.
  find "$STAGE" -exec touch -h -d @0 {} +
  (cd "$STAGE" && find . -mindepth 1 | LC_ALL=C sort |
     cpio -o -H newc --quiet --owner=0:0 --reproducible) | gzip -9n >"$INITRD.tmp"
  mv "$INITRD.tmp" "$INITRD"
  rm -rf "$STAGE"
  { echo "modules: ${order[*]}"; echo "built-in: ${builtin[*]}"; } >"$CACHE/initramfs-modules.txt"
fi

echo "$IMAGE"
echo "$INITRD"
echo "$CACHE/kernel-version"
echo "$CACHE/packages.txt"
