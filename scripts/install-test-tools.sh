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
