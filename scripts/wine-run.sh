#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# wine-run.sh - run one Windows program under wine64 and pass its exit code
# through. CMake uses it as CMAKE_CROSSCOMPILING_EMULATOR for the mingw build
# (cmake/toolchain-mingw64.cmake), so `ctest` runs each test .exe through it.
#
# Usage: wine-run.sh [--prefix DIR] PROGRAM.exe [ARGS...]
#   --prefix DIR  the wine prefix (default: $WINEPREFIX, else ./wineprefix).
#
# What it guarantees:
#   - The prefix is created on first use (wineboot -i, under a lock, so
#     parallel ctest runs do not race) and set up so a crash is a failure
#     and not a hang: no crash dialog; winedbg --auto prints a backtrace on
#     stderr and the program exits non-zero.
#   - A wineserver for the prefix is running with its stdio on /dev/null
#     before the program starts: a wineserver started by the program itself
#     would inherit ctest's output pipe and keep ctest waiting.
#   - Quiet: WINEDEBUG=-all unless the caller set WINEDEBUG.
# Environment: WB_WINE (default /usr/lib/wine/wine64, Debian's wine64 is not
# on PATH), WB_WINESERVER (default /usr/lib/wine/wineserver).
set -u

WINE=${WB_WINE:-/usr/lib/wine/wine64}
WINESERVER=${WB_WINESERVER:-/usr/lib/wine/wineserver}

if [ "${1:-}" = "--prefix" ]; then
	[ $# -ge 2 ] || { echo "wine-run: --prefix needs a directory" >&2; exit 2; }
	WINEPREFIX=$2
	shift 2
fi
[ $# -ge 1 ] || { echo "usage: wine-run.sh [--prefix DIR] PROGRAM.exe [ARGS...]" >&2; exit 2; }
[ -x "$WINE" ] || { echo "wine-run: $WINE not found (apt-get install wine64)" >&2; exit 2; }

WINEPREFIX=${WINEPREFIX:-$PWD/wineprefix}
case $WINEPREFIX in /*) ;; *) WINEPREFIX=$PWD/$WINEPREFIX ;; esac
export WINEPREFIX
export WINEDEBUG=${WINEDEBUG:--all}
export WINEARCH=win64
# No Mono/Gecko install prompts while the prefix is created.
export WINEDLLOVERRIDES=${WINEDLLOVERRIDES:-mscoree,mshtml=}
unset DISPLAY WAYLAND_DISPLAY

READY=$WINEPREFIX/.wirebolt-ready

# Run a wine tool with stdio on /dev/null and without the lock's fd 9: the
# wineserver and services it may start outlive it and must hold neither
# the caller's pipes nor the lock.
quiet() {
	"$@" </dev/null >/dev/null 2>&1 9>&-
}

start_server() {
	# Persistent for a while after the last client. If one already runs for
	# this prefix this exits at once, harmlessly.
	quiet "$WINESERVER" -p30 || true
}

# Is a wineserver running for this prefix? It works in a directory named
# server-<dev>-<inode> of the prefix (hex), so look for that cwd in /proc.
server_running() {
	local id cwd p
	id=server-$(stat -c %D "$WINEPREFIX")-$(printf %x "$(stat -c %i "$WINEPREFIX")")
	for p in /proc/[0-9]*; do
		case $(cat "$p/comm" 2>/dev/null) in wineserver*) ;; *) continue ;; esac
		cwd=$(readlink "$p/cwd" 2>/dev/null) || continue
		[ "${cwd##*/}" = "$id" ] && return 0
	done
	return 1
}

# Start the server and wine's background services (started with the first
# program of a server's life) with stdio on /dev/null, so that nothing
# outliving the test holds the caller's pipes open.
start_services() {
	start_server
	quiet "$WINE" wineboot
}

create_prefix() {
	mkdir -p "$WINEPREFIX" || return 1
	start_server
	quiet "$WINE" wineboot -i || return 1
	# A crash must end the process and not wait for a user: no crash dialog.
	# The default AeDebug entry (Auto=1, "winedbg --auto") is kept, so a
	# crash prints a backtrace on stderr and the program exits non-zero.
	quiet "$WINE" reg add 'HKCU\Software\Wine\WineDbg' /v ShowCrashDialog \
		/t REG_DWORD /d 0 /f || return 1
	quiet "$WINE" reg add 'HKLM\Software\Microsoft\Windows NT\CurrentVersion\AeDebug' \
		/v Auto /t REG_SZ /d 1 /f || return 1
	touch "$READY"
}

mkdir -p "$(dirname "$WINEPREFIX")"
if [ ! -e "$READY" ] || ! server_running; then
	(
		flock 9
		if [ ! -e "$READY" ]; then
			create_prefix || { echo "wine-run: could not create wine prefix $WINEPREFIX" >&2; exit 1; }
		elif ! server_running; then
			start_services
		fi
	) 9>"$WINEPREFIX.lock" || exit 2
fi

"$WINE" "$@"
exit $?
