#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# build-libsodium-mingw.sh - cross-build libsodium for x86_64-w64-mingw32
# from Debian's own source package (same version as libsodium-dev on the
# host, so Linux and Windows builds test against the same library).
#
# Usage: scripts/build-libsodium-mingw.sh [PREFIX]
#   PREFIX defaults to $WB_MINGW_PREFIX, else <repo>/.deps/mingw64.
#
# Produces a static-only libsodium (PREFIX/lib/libsodium.a + libsodium.pc):
# Windows test programs then need no DLL at run time and wirebolt's DLL is
# self-contained. Idempotent: exits at once when PREFIX already holds it.
# Needs root (or sudo) only the first time, to enable deb-src and to install
# dpkg-dev; the download and build run in <repo>/.deps/src.
set -euo pipefail

HOST=x86_64-w64-mingw32
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PREFIX=${1:-${WB_MINGW_PREFIX:-$ROOT/.deps/mingw64}}
SRCDIR=$ROOT/.deps/src
DEBSRC_FILE=/etc/apt/sources.list.d/wirebolt-deb-src.sources

die() { echo "build-libsodium-mingw: error: $*" >&2; exit 1; }
log() { echo "build-libsodium-mingw: $*"; }

as_root() {
	if [ "$(id -u)" -eq 0 ]; then "$@"
	elif command -v sudo >/dev/null; then sudo "$@"
	else die "need root to run: $*"
	fi
}

if [ -f "$PREFIX/lib/libsodium.a" ] && [ -f "$PREFIX/lib/pkgconfig/libsodium.pc" ] &&
   [ -f "$PREFIX/include/sodium.h" ]; then
	log "already built in $PREFIX"
	exit 0
fi

command -v "$HOST-gcc" >/dev/null ||
	die "$HOST-gcc not found (apt-get install gcc-mingw-w64-x86-64)"
command -v make >/dev/null || die "make not found (apt-get install make)"
command -v dpkg-source >/dev/null ||
	die "dpkg-source not found (apt-get install dpkg-dev), needed by apt-get source"

# --- make Debian's source packages visible to apt -------------------------
have_deb_src() {
	grep -rqsE '^[[:space:]]*(deb-src[[:space:]]|Types:.*deb-src)' \
		/etc/apt/sources.list /etc/apt/sources.list.d/
}
if ! have_deb_src; then
	log "adding deb-src entries for bookworm in $DEBSRC_FILE"
	as_root tee "$DEBSRC_FILE" >/dev/null <<'EOF'
# Added by wirebolt scripts/build-libsodium-mingw.sh: source packages, used to
# cross-build libsodium for mingw-w64.
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb-src
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
fi
# (No `| grep -q` here: with pipefail, grep closing early fails the pipeline.)
have_source() { apt-cache showsrc libsodium 2>/dev/null | grep -c '^Package: libsodium' >/dev/null; }
if ! have_source; then
	log "apt-get update (source indexes)"
	as_root apt-get update -qq || die "apt-get update failed"
	have_source ||
		die "apt knows no source package 'libsodium' (check deb-src in $DEBSRC_FILE)"
fi

# --- fetch and unpack ------------------------------------------------------
mkdir -p "$SRCDIR"
cd "$SRCDIR"
src=$(find . -maxdepth 1 -type d -name 'libsodium-*' | sort | tail -n1)
if [ -z "$src" ]; then
	log "apt-get source libsodium into $SRCDIR"
	apt-get source -qq libsodium >/dev/null || die "apt-get source libsodium failed"
	src=$(find . -maxdepth 1 -type d -name 'libsodium-*' | sort | tail -n1)
	[ -n "$src" ] || die "apt-get source left no libsodium-* directory in $SRCDIR"
fi
cd "$src"
# Debian's source ships configure.ac only (debian/rules runs dh-autoreconf).
if [ ! -x configure ]; then
	{ command -v autoreconf && command -v libtoolize; } >/dev/null ||
		die "autoreconf/libtoolize not found (apt-get install autoconf automake libtool)"
	log "autoreconf -fi"
	autoreconf -fi >autoreconf.log 2>&1 ||
		{ tail -n 30 autoreconf.log >&2; die "autoreconf failed (see $PWD/autoreconf.log)"; }
fi
log "building $(basename "$src") for $HOST into $PREFIX"

# --- configure, build, install ---------------------------------------------
# Out of tree, so a failed attempt can be retried from clean.
rm -rf build-mingw
mkdir build-mingw
cd build-mingw
jobs=$(nproc 2>/dev/null || echo 2)
../configure --host="$HOST" --prefix="$PREFIX" \
	--disable-shared --enable-static --disable-dependency-tracking \
	--with-pic=no >configure.log 2>&1 ||
	{ tail -n 30 configure.log >&2; die "configure failed (see $PWD/configure.log)"; }
make -j"$jobs" >make.log 2>&1 ||
	{ tail -n 30 make.log >&2; die "make failed (see $PWD/make.log)"; }
make install >install.log 2>&1 ||
	{ tail -n 30 install.log >&2; die "make install failed (see $PWD/install.log)"; }

[ -f "$PREFIX/lib/libsodium.a" ] || die "install left no $PREFIX/lib/libsodium.a"
log "done: $PREFIX/lib/libsodium.a"
