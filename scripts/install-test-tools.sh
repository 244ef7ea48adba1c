#!/usr/bin/env bash
# Installs the system tools the tests (and the compressed-archive paths) need, from Debian's
# packages. Called by .ci/run and by scripts/run-tests.mjs, so a fresh machine or a fresh CI
# clone gets them without anyone installing by hand. Idempotent; does nothing when all exist.
# Unprivileged runs cannot install: they print what is missing and the tests that need a
# missing tool report "skipped: needs <tool>".
set -u
need=()
have() { command -v "$1" >/dev/null 2>&1; }
have bsdtar     || need+=(libarchive-tools)
have zstd       || need+=(zstd)
have xz         || need+=(xz-utils)
have bzip2      || need+=(bzip2)
have gzip       || need+=(gzip)
have pigz       || need+=(pigz)
have tar        || need+=(tar)
have mkfs.ext4  || need+=(e2fsprogs)
have mkfs.xfs   || need+=(xfsprogs)
have mkfs.btrfs || need+=(btrfs-progs)
have losetup    || need+=(mount)
have python3    || need+=(python3)
# python2.7 (Mailman 2.1's interpreter, the reference for the pickle tests) is not packaged in
# Debian 12: the tests use pyenv's 2.7.18 when the machine has it (test/helpers/pythonPickle.ts
# findPython2) and say "skipped: ... needs python2.7" otherwise.
have tmux       || need+=(tmux)
have borg       || need+=(borgbackup)
have restic     || need+=(restic)
have script     || need+=(bsdutils)
have logger     || need+=(bsdutils)
have flock      || need+=(util-linux)
have runuser    || need+=(util-linux)
# The Prometheus text-format parser the --prometheus tests read the exposition with: Debian's
# package, importable by Debian's python3 (a pyenv python3 earlier in PATH does not see it).
py3=/usr/bin/python3; [ -x "$py3" ] || py3=python3
"$py3" -c 'import prometheus_client' >/dev/null 2>&1 || need+=(python3-prometheus-client)
# The man page (man -l, groff -ww) and the completion scripts (bash, zsh -n, fish -n).
have man        || need+=(man-db)
have groff      || need+=(groff-base)
have zsh        || need+=(zsh)
have fish       || need+=(fish)
# Exim 4 and Postfix for the MTA-spool tests (issue 16). Their Debian packages conflict (both
# provide mail-transport-agent) and their maintainer scripts would set up a system MTA and try
# to start it, so neither is installed: each package is unpacked with dpkg-deb -x into its own
# prefix under /opt/restoreplan-test, and the tests run it with a private configuration and
# spool (Exim: exim4 -C FILE; Postfix: -c DIR / sendmail -C DIR / MAIL_CONFIG=DIR).
# Postfix's programs find their libpostfix-*.so through RUNPATH /usr/lib/postfix, and its
# sendmail runs postdrop with a scrubbed environment (no LD_LIBRARY_PATH), so the unpacked
# ELF files get their RUNPATH rewritten to the private prefix with patchelf. Exim looks up its
# compiled-in user Debian-exim before it reads any configuration, and Postfix refuses to run
# without its mail_owner (postfix) and setgid_group (postdrop): those are created as Debian's
# packages would. Placed before the early exit; idempotent; does nothing when all is there.
RP_MTA=/opt/restoreplan-test
if [ "$(id -u)" = 0 ]; then
  mta_need=()
  for p in patchelf libidn12 libidn2-0 libdb5.3 libgnutls30 libgnutls-dane0 libnsl2 \
           libpcre2-8-0 libcrypt1 libicu72 libsasl2-2 libssl3; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || mta_need+=("$p")
  done
  if [ ${#mta_need[@]} -gt 0 ]; then
    apt-get -o DPkg::Lock::Timeout=900 update -qq >/dev/null 2>&1 || true
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=900 install -y -qq \
      --no-install-recommends "${mta_need[@]}" >/dev/null 2>&1 \
      || echo "install-test-tools: apt-get install ${mta_need[*]} failed" >&2
  fi
  # unpack_deb PACKAGE DIR FILE-THAT-SHOWS-IT-IS-DONE
  unpack_deb() {
    [ -x "$2/$3" ] && return 0
    local t f; t=$(mktemp -d) && chmod 755 "$t"
    if ! ( cd "$t" && { apt-get -o DPkg::Lock::Timeout=900 download -qq "$1" >/dev/null 2>&1 \
        || { apt-get -o DPkg::Lock::Timeout=900 update -qq >/dev/null 2>&1 \
             && apt-get -o DPkg::Lock::Timeout=900 download -qq "$1" >/dev/null 2>&1; }; } ) \
      || ! { rm -rf "$2.new" && mkdir -p "$2.new" && dpkg-deb -x "$t"/"$1"_*.deb "$2.new"; }; then
      echo "install-test-tools: could not unpack $1 into $2" >&2; rm -rf "$t" "$2.new"; return 1
    fi
    # Point RUNPATH /usr/lib/... at the private copy (Postfix's libpostfix-*.so).
    while IFS= read -r -d '' f; do
      case "$(patchelf --print-rpath "$f" 2>/dev/null)" in
        /usr/lib/*) patchelf --set-rpath "$2$(patchelf --print-rpath "$f")" "$f" ;;
      esac
    done < <(find "$2.new" -type f \( -perm -u+x -o -name '*.so*' \) -print0)
    chmod -R u-s,g-s "$2.new"   # the tests run as root; no set-id copies lying around
    rm -rf "$2" && mv "$2.new" "$2"; rm -rf "$t"
  }
  unpack_deb exim4-daemon-light "$RP_MTA/exim4" usr/sbin/exim4
  unpack_deb postfix "$RP_MTA/postfix" usr/sbin/postconf
  getent group Debian-exim >/dev/null || groupadd --system Debian-exim
  getent passwd Debian-exim >/dev/null \
    || useradd --system -g Debian-exim -d /var/spool/exim4 -M -s /usr/sbin/nologin Debian-exim
  getent group postfix >/dev/null || groupadd --system postfix
  getent group postdrop >/dev/null || groupadd --system postdrop
  getent passwd postfix >/dev/null \
    || useradd --system -g postfix -d /var/spool/postfix -M -s /usr/sbin/nologin postfix
fi
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ]; then
  echo "install-test-tools: not root; missing packages: ${need[*]} (tests that need them are skipped)" >&2
  exit 0
fi
echo "install-test-tools: installing ${need[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
# Debian's lists are often stale or absent on a fresh machine: update once, then install.
apt-get update -qq >/dev/null 2>&1 || true
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null 2>&1 \
  || { echo "install-test-tools: apt-get install ${need[*]} failed" >&2; exit 1; }
