#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""control_tool.py - the Python half of perf/bench-control.sh.

  gen DIR N PRIVKEY-FILE PORT [--chunk C]
      DIR/full.conf: [Interface] PrivateKey, ListenPort, then N [Peer]s, each
      with a random public key (32 random bytes, base64), its own
      AllowedIPs (a /32 in 10.0.0.0/8 and a /128 in fd00:c0::/32, distinct
      per peer) and an Endpoint in 198.18.0.0/15. DIR/empty.conf: the
      [Interface] section alone (`wg setconf` with it removes every peer).
      DIR/chunk-NNNN.conf: the same peers, C per file, [Peer] sections only
      (for `wg addconf` when one setconf is refused). DIR/target.key: the
      public key of peer N/2, the one `wg set` changes.

  burst --pid PID --port PORT --pub KEY [--count N] [--settle S] [--tag K=V]...
      Run inside the daemon's namespace: N handshake initiations (148 bytes,
      type 1, random body, valid mac1 for the responder public key KEY, mac2
      zero) sent as fast as possible to 127.0.0.1:PORT, with the daemon's
      VmRSS sampled before, during and for S seconds after (every 10 ms),
      its CPU ticks, and the namespace's UDP counters (/proc/net/snmp).
      Prints one JSON object (with the --tag pairs) on stdout.

  report DIR
      DIR/runs.jsonl (written by bench-control.sh) and DIR/meta.json ->
      DIR/results.md (printed) and DIR/results.json.
"""
import argparse
import base64
import hashlib
import json
import os
import socket
import statistics
import sys
import time

MSG_INIT_LEN = 148
MAC1_OFF = 116
MAC2_OFF = 132
TIMEOUT_RCS = (124, 137)

# Issue #11's targets at 100,000 peers: (key, label, limit, unit).
TARGETS = [
    ("setconf", "wg setconf", 1.0, "s"),
    ("dump", "wg show dump", 0.5, "s"),
    ("set", "one wg set", 0.010, "s"),
    ("set_during_dump", "one wg set while a show dump runs", 0.010, "s"),
    ("idle_pct", "idle CPU (% of one core)", 1.0, "%"),
    ("rss_mib", "RSS with the peers configured", 256.0, "MiB"),
    ("burst_rise_mib", "RSS rise from a 10,000-initiation burst", 8.0, "MiB"),
]
TARGET_N = 100000
IMPL_NAMES = {"wb": "wirebolt", "go": "wireguard-go"}


# ------------------------------------------------------------------ gen

def peer_lines(i):
    """The [Peer] section of peer i (0-based): key, allowed IPs, endpoint."""
    key = base64.b64encode(os.urandom(32)).decode()
    v = i + 1
    v4 = f"10.{(v >> 16) & 255}.{(v >> 8) & 255}.{v & 255}/32"
    v6 = f"fd00:c0::{(v >> 16) & 0xffff:x}:{v & 0xffff:x}/128"
    ep = f"198.{18 + ((i >> 16) & 1)}.{(i >> 8) & 255}.{i & 255}:{10000 + i % 50000}"
    return key, f"[Peer]\nPublicKey = {key}\nAllowedIPs = {v4}, {v6}\nEndpoint = {ep}\n\n"


def cmd_gen(a):
    with open(a.privkey, encoding="ascii") as f:
        priv = f.read().strip()
    iface = f"[Interface]\nPrivateKey = {priv}\nListenPort = {a.port}\n\n"
    os.makedirs(a.dir, exist_ok=True)
    target = a.n // 2
    chunk = None
    with open(os.path.join(a.dir, "full.conf"), "w", encoding="ascii") as full:
        full.write(iface)
        for i in range(a.n):
            key, text = peer_lines(i)
            full.write(text)
            if i % a.chunk == 0:
                if chunk:
                    chunk.close()
                chunk = open(os.path.join(a.dir, f"chunk-{i // a.chunk:04d}.conf"), "w",
                             encoding="ascii")
            chunk.write(text)
            if i == target:
                with open(os.path.join(a.dir, "target.key"), "w", encoding="ascii") as t:
                    t.write(key + "\n")
    if chunk:
        chunk.close()
    with open(os.path.join(a.dir, "empty.conf"), "w", encoding="ascii") as f:
        f.write(iface)
    return 0


# ------------------------------------------------------------------ burst

def proc_status(pid):
    """{'VmRSS': kB, 'VmHWM': kB} of a process, or {} when it is gone."""
    out = {}
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as f:
            for line in f:
                if line.startswith(("VmRSS:", "VmHWM:")):
                    k, v = line.split(":", 1)
                    out[k] = int(v.split()[0])
    except OSError:
        pass
    return out


def proc_ticks(pid):
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            s = f.read()
    except OSError:
        return None
    f = s[s.rindex(")") + 2:].split()
    return int(f[11]) + int(f[12])


def udp_snmp():
    """The Udp: counters of this namespace (/proc/net/snmp)."""
    try:
        with open("/proc/net/snmp", encoding="ascii") as f:
            rows = [ln.split() for ln in f if ln.startswith("Udp:")]
        return {k: int(v) for k, v in zip(rows[0][1:], rows[1][1:])}
    except (OSError, IndexError, ValueError):
        return {}


def initiation(mac1_key):
    """A 148-byte initiation: type 1, random body, valid mac1, zero mac2."""
    m = bytearray(b"\x01\x00\x00\x00" + os.urandom(MAC1_OFF - 4))
    m += hashlib.blake2s(bytes(m), key=mac1_key, digest_size=16).digest()
    m += bytes(MSG_INIT_LEN - MAC2_OFF)
    assert len(m) == MSG_INIT_LEN
    return bytes(m)


def cmd_burst(a):
    pub = base64.b64decode(a.pub)
    if len(pub) != 32:
        print("control_tool: --pub is not a 32-byte base64 key", file=sys.stderr)
        return 2
    mac1_key = hashlib.blake2s(b"mac1----" + pub).digest()
    msgs = [initiation(mac1_key) for _ in range(a.count)]
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    # Room for every reply (cookie replies under load), so that the replies
    # the daemon sends are all counted here and none lands in RcvbufErrors.
    for opt in (getattr(socket, "SO_RCVBUFFORCE", 33), socket.SO_RCVBUF):
        try:
            s.setsockopt(socket.SOL_SOCKET, opt, 32 << 20)
            break
        except OSError:
            continue
    s.bind(("127.0.0.1", 0))
    dst = ("127.0.0.1", a.port)

    st0 = proc_status(a.pid)
    ticks0 = proc_ticks(a.pid)
    snmp0 = udp_snmp()
    peak = st0.get("VmRSS", 0)
    sent = errors = 0
    t0 = time.perf_counter()
    for i, m in enumerate(msgs):
        try:
            s.sendto(m, dst)
            sent += 1
        except OSError:
            errors += 1
        if i % 250 == 249:
            peak = max(peak, proc_status(a.pid).get("VmRSS", 0))
    send_s = time.perf_counter() - t0
    end = time.perf_counter() + a.settle
    while time.perf_counter() < end:
        peak = max(peak, proc_status(a.pid).get("VmRSS", 0))
        time.sleep(0.01)
    st1 = proc_status(a.pid)
    ticks1 = proc_ticks(a.pid)
    snmp1 = udp_snmp()
    s.setblocking(False)
    replies = {}
    while True:
        try:
            r = s.recv(2048)
        except OSError:
            break
        t = r[0] if r else 0
        replies[t] = replies.get(t, 0) + 1
    s.close()

    d = {k: snmp1.get(k, 0) - snmp0.get(k, 0) for k in ("InDatagrams", "RcvbufErrors", "InErrors", "NoPorts")}
    out = dict(kv.split("=", 1) for kv in a.tag)
    out.update({
        "key": "burst", "count": a.count, "sent": sent, "send_errors": errors,
        "send_s": round(send_s, 6), "settle_s": a.settle,
        "rss_before_kib": st0.get("VmRSS"), "rss_peak_kib": peak or None,
        "rss_after_kib": st1.get("VmRSS"), "hwm_before_kib": st0.get("VmHWM"),
        "hwm_after_kib": st1.get("VmHWM"),
        "cpu_ticks": (ticks1 - ticks0) if ticks0 is not None and ticks1 is not None else None,
        "daemon_alive": bool(st1),
        # The kernel counts InDatagrams when a socket reads a datagram, and
        # the counters were read before this sender read its replies: all
        # of InDatagrams is the daemon's. RcvbufErrors: datagrams dropped
        # because the daemon's socket buffer was full (InErrors counts
        # them too, with checksum and other errors).
        "daemon_rx": d["InDatagrams"],
        "kernel_drops": d["RcvbufErrors"], "in_errors": d["InErrors"],
        "no_port": d["NoPorts"],
        "replies": {str(k): v for k, v in sorted(replies.items())},
    })
    print(json.dumps(out))
    return 0


# ------------------------------------------------------------------ report

def load_jsonl(path):
    out = []
    try:
        with open(path, encoding="utf-8") as f:
            for line in f:
                line = line.strip()
                if not line:
                    continue
                try:
                    out.append(json.loads(line))
                except ValueError as e:
                    print(f"control_tool: {path}: bad line ({e}): {line[:80]}", file=sys.stderr)
    except OSError as e:
        print(f"control_tool: {e}", file=sys.stderr)
    return out


def step_status(st):
    """ok | timeout | refused | rc N | skipped, for a timed step record."""
    if st is None:
        return "-"
    rc = st.get("rc")
    if rc is None:
        return "skipped"
    if rc == 0:
        return "ok"
    if rc in TIMEOUT_RCS:
        return "timeout"
    err = st.get("err", "")
    # wg prints "Unable to modify interface: <error>" when the daemon answers
    # errno=N; 141 = 128 + SIGPIPE: the daemon closed the socket while wg
    # was still writing the request.
    if rc == 141 or "Unable to modify interface" in err or "Unable to access interface" in err:
        return "refused"
    return f"rc {rc}"


def step_explain(st):
    """A sentence on a failed step, for the notes under the table."""
    rc, err = st.get("rc"), (st.get("err") or "").strip()
    if rc in TIMEOUT_RCS:
        return f"did not finish within the step timeout (exit status {rc})"
    if rc == 141:
        why = "the daemon closed the UAPI connection while wg was writing the request (wg killed by SIGPIPE)"
    else:
        why = "wg failed"
    return f"{why}, exit status {rc}" + (f": {err[:200]}" if err else "")


def collect(recs):
    """{(impl, n): row}: the figures of each run, from the raw records."""
    rows = {}
    for r in recs:
        k = (r.get("impl"), int(r.get("n", -1)))
        row = rows.setdefault(k, {"impl": k[0], "n": k[1], "steps": {}, "notes": []})
        key = r.get("key")
        if key in ("setconf", "setconf_chunks", "remove", "dump_after_remove"):
            row["steps"][key] = r
        elif key in ("dump", "set", "set_during_dump"):
            row["steps"].setdefault(key, []).append(r)
        elif key == "burst":
            row["burst"] = r
        elif key == "note":
            row["notes"].append(r.get("text", ""))
        elif key is not None:
            row[key] = r.get("value")
    for row in rows.values():
        finish_row(row)
    return rows


def ok_secs(st):
    return st["s"] if st and st.get("rc") == 0 else None


def finish_row(row):
    """Derive the reported figures (seconds, MiB, %, status) of one run."""
    s = row["steps"]
    row["setconf_status"] = step_status(s.get("setconf"))
    row["setconf"] = ok_secs(s.get("setconf"))
    ch = s.get("setconf_chunks")
    row["setconf_chunks_s"] = ok_secs(ch)
    row["dump_peers"] = (s.get("dump") or [{}])[0].get("peers")
    for key in ("dump", "set", "set_during_dump"):
        reps = s.get(key, [])
        good = [r["s"] for r in reps if r.get("rc") == 0]
        row[key] = statistics.median(good) if good and len(good) == len(reps) else None
        row[key + "_status"] = "ok" if row[key] is not None else (
            step_status(next((r for r in reps if r.get("rc") != 0), None)) if reps else "-")
        row[key + "_all"] = [r.get("s") for r in reps]
        if key == "set_during_dump":
            row["overlap"] = [bool(r.get("overlap")) for r in reps]
    row["remove_status"] = step_status(s.get("remove"))
    row["remove"] = ok_secs(s.get("remove"))
    row["peers_after_remove"] = (s.get("dump_after_remove") or {}).get("peers")
    kib = row.get("rss_kib")
    row["rss_mib"] = kib / 1024 if isinstance(kib, (int, float)) else None
    kib = row.get("hwm_kib")
    row["hwm_mib"] = kib / 1024 if isinstance(kib, (int, float)) else None
    kib = row.get("hwm_end_kib")
    row["hwm_end_mib"] = kib / 1024 if isinstance(kib, (int, float)) else None
    ticks, secs, tck = row.get("idle_ticks"), row.get("idle_s"), row.get("clk_tck")
    row["idle_pct"] = (100.0 * ticks / tck / secs) if None not in (ticks, secs, tck) and secs else None
    b = row.get("burst")
    row["burst_rise_mib"] = None
    if b and b.get("rss_before_kib") is not None and b.get("rss_peak_kib") is not None:
        row["burst_rise_mib"] = (b["rss_peak_kib"] - b["rss_before_kib"]) / 1024


def fmt_s(v, status, unit="s"):
    if v is None:
        return status if status not in ("ok", "-") else "-"
    if unit == "ms":
        v *= 1000
    if v >= 100:
        return f"{v:.0f}"
    if v >= 10:
        return f"{v:.1f}"
    if v >= 1:
        return f"{v:.2f}"
    return f"{v:.3f}"


def fmt_num(v, digits=1):
    return "-" if v is None else f"{v:.{digits}f}"


def cell(row, key):
    """The table text of one figure of one run."""
    if key == "setconf":
        t = fmt_s(row["setconf"], row["setconf_status"])
        ch = row["steps"].get("setconf_chunks")
        if row["setconf"] is None and ch:
            t += f" (chunks: {fmt_s(row['setconf_chunks_s'], step_status(ch))})"
        return t
    if key == "dump":
        t = fmt_s(row["dump"], row["dump_status"])
        p = row["dump_peers"]
        if p is not None and row["dump"] is not None:
            t += " ✓" if p == row["n"] else f" ({p} peers!)"
        return t
    if key in ("set", "set_during_dump"):
        t = fmt_s(row[key], row[key + "_status"], "ms")
        if key == "set_during_dump" and row[key] is not None and not all(row["overlap"]):
            t += "*"
        return t
    if key == "remove":
        t = fmt_s(row["remove"], row["remove_status"])
        p = row["peers_after_remove"]
        if row["remove"] is not None and p not in (None, 0):
            t += f" ({p} left!)"
        return t
    if key in ("rss_mib", "burst_rise_mib"):
        return fmt_num(row[key])
    if key == "hwm_mib":
        return f"{fmt_num(row['hwm_mib'])} / {fmt_num(row['hwm_end_mib'])}"
    if key == "idle_pct":
        return fmt_num(row[key], 2)
    if key == "burst_io":
        b = row.get("burst")
        if not b:
            return "-"
        return f"{b.get('sent')}/{b.get('daemon_rx')}/{b.get('kernel_drops')}"
    return "-"


COLUMNS = [
    ("setconf", "setconf s"),
    ("dump", "show dump s"),
    ("set", "wg set ms"),
    ("set_during_dump", "wg set during dump ms"),
    ("remove", "remove all s"),
    ("rss_mib", "RSS MiB"),
    ("hwm_mib", "VmHWM MiB after setconf / at the end"),
    ("idle_pct", "idle CPU %"),
    ("burst_rise_mib", "burst RSS rise MiB"),
    ("burst_io", "burst sent/rcvd/dropped"),
]


def fmt_ratio(r):
    if r is None:
        return "-"
    return f"{r:.2f}" if r < 10 else f"{r:.0f}"


def ratio(a, b):
    if a is None or b is None or b <= 0 or a < 0:
        return None
    return a / b


def report(d):
    meta = {}
    try:
        with open(os.path.join(d, "meta.json"), encoding="utf-8") as f:
            meta = json.load(f)
    except (OSError, ValueError) as e:
        print(f"control_tool: meta.json: {e}", file=sys.stderr)
    rows = collect(load_jsonl(os.path.join(d, "runs.jsonl")))
    ns = sorted({k[1] for k in rows})
    impls = [i for i in ("wb", "go") if any(k[0] == i for k in rows)]
    impls += sorted({k[0] for k in rows} - set(impls))
    md = []
    md.append(f"# {meta.get('title', 'wirebolt control-plane benchmark')}")
    md.append("")
    md.append(f"{meta.get('date', '?')}; {meta.get('cpus', '?')} CPUs ({meta.get('cpu_model', '?')}), "
              f"kernel {meta.get('kernel', '?')}, load average {meta.get('loadavg', '?')}; "
              f"{meta.get('versions', '')}; step timeout {meta.get('step_timeout', '?')} s, "
              f"idle {meta.get('idle_s', '?')} s, burst {meta.get('burst', '?')} initiations.")
    md.append("")
    md.append("| N | implementation | " + " | ".join(c[1] for c in COLUMNS) + " |")
    md.append("|" + "---|" * (len(COLUMNS) + 2))
    for n in ns:
        for i in impls:
            row = rows.get((i, n))
            if not row:
                continue
            md.append(f"| {n:,} | {IMPL_NAMES.get(i, i)} | " + " | ".join(cell(row, c[0]) for c in COLUMNS) + " |")
    md.append("")
    md.append("setconf: `wg setconf` of N peers (\"chunks\": the time to add them with `wg addconf` in "
              f"{meta.get('chunk', '?')}-peer files after setconf failed); show dump: median of up to 3, ✓ = N peer lines; "
              "wg set: median of the repetitions; * = the background dump had ended before the set began "
              "(no overlap); remove all: `wg setconf` with the [Interface] section alone; RSS: after "
              "setconf; VmHWM: the peak RSS so far, after setconf and at the end of the run (dump, sets, "
              "burst and removal included); idle CPU: utime+stime over the idle period, % of one core "
              f"(resolution {100.0 / max(1, int(meta.get('clk_tck', 100))) / max(1, float(meta.get('idle_s', 10))):.2f} %); "
              "burst RSS rise: peak VmRSS during and after the burst minus VmRSS before it; "
              "sent/rcvd/dropped: initiations sent, datagrams the daemon's sockets took in, "
              "datagrams the kernel dropped because the daemon's socket buffer was full (RcvbufErrors).")

    # Ratios per N.
    if "wb" in impls and "go" in impls:
        keys = [("setconf", "setconf"), ("dump", "show dump"), ("set", "wg set"),
                ("set_during_dump", "set during dump"), ("remove", "remove all"),
                ("rss_mib", "RSS"), ("idle_pct", "idle CPU"), ("burst_rise_mib", "burst RSS rise")]
        md.append("")
        md.append("wirebolt ÷ wireguard-go (below 1: wirebolt is faster / smaller):")
        md.append("")
        md.append("| N | " + " | ".join(k[1] for k in keys) + " |")
        md.append("|" + "---|" * (len(keys) + 1))
        for n in ns:
            wb, go = rows.get(("wb", n)), rows.get(("go", n))
            if not wb or not go:
                continue
            cells = []
            for k, _ in keys:
                r = ratio(wb.get(k), go.get(k))
                cells.append(fmt_ratio(r))
            md.append(f"| {n:,} | " + " | ".join(cells) + " |")

    # Targets.
    tn = TARGET_N if TARGET_N in ns else (max(ns) if ns else None)
    targets = []
    if tn is not None:
        md.append("")
        if tn == TARGET_N:
            md.append(f"Issue #11's targets at {TARGET_N:,} peers:")
        else:
            md.append(f"Issue #11's targets are for {TARGET_N:,} peers; this run's largest N is "
                      f"{tn:,}, shown against them for orientation only:")
        md.append("")
        def head(i):
            row = rows.get((i, tn)) or {}
            p = row.get("dump_peers")
            name = IMPL_NAMES.get(i, i)
            return name if p is None or p == tn else f"{name} ({p:,} peers configured)"
        md.append("| target | limit | " + " | ".join(head(i) for i in impls)
                  + (" | wirebolt ÷ wireguard-go" if "wb" in impls and "go" in impls else "") + " |")
        md.append("|" + "---|" * (len(impls) + 2 + ("wb" in impls and "go" in impls)))
        for key, label, limit, unit in TARGETS:
            cells = []
            t = {"target": label, "limit": limit, "unit": unit, "n": tn}
            for i in impls:
                row = rows.get((i, tn))
                v = row.get(key) if row else None
                if v is None:
                    st = row.get(key + "_status", "-") if row else "-"
                    cells.append(f"{st} ✗" if st not in ("ok", "-") else "-")
                    t[i] = {"value": None, "status": st, "met": False}
                    continue
                shown = v * 1000 if unit == "s" and limit < 0.1 else v
                u = "ms" if unit == "s" and limit < 0.1 else unit
                met = v < limit
                txt = f"{shown:.0f}" if shown >= 100 else f"{shown:.3g}"
                cells.append(f"{txt} {u} {'✓' if met else '✗'}")
                t[i] = {"value": v, "met": met}
            lim = f"< {limit * 1000:g} ms" if unit == "s" and limit < 0.1 else f"< {limit:g} {unit}"
            line = f"| {label} | {lim} | " + " | ".join(cells)
            if "wb" in impls and "go" in impls:
                r = ratio((t.get("wb") or {}).get("value"), (t.get("go") or {}).get("value"))
                line += " | " + fmt_ratio(r)
                t["ratio_wb_go"] = r
            md.append(line + " |")
            targets.append(t)

    notes = [(IMPL_NAMES.get(r["impl"], r["impl"]), r["n"], x) for r in rows.values() for x in r["notes"]]
    errs = []
    for r in rows.values():
        for key, st in r["steps"].items():
            for x in (st if isinstance(st, list) else [st]):
                if x.get("rc") not in (0, None):
                    errs.append((IMPL_NAMES.get(r["impl"], r["impl"]), r["n"], key, step_explain(x)))
                    break
    if notes or errs:
        md.append("")
        md.append("Notes:")
        md.append("")
        for impl, n, x in sorted(notes, key=lambda t: (t[1], t[0])):
            md.append(f"- {impl}, N = {n:,}: {x}")
        for impl, n, key, why in sorted(errs, key=lambda t: (t[1], t[0])):
            md.append(f"- {impl}, N = {n:,}, {key}: {why}")
    text = "\n".join(md) + "\n"
    with open(os.path.join(d, "results.md"), "w", encoding="utf-8") as f:
        f.write(text)
    out = {"meta": meta, "runs": [rows[k] for k in sorted(rows, key=lambda k: (k[1], k[0]))],
           "targets": targets}
    with open(os.path.join(d, "results.json"), "w", encoding="utf-8") as f:
        json.dump(out, f, indent=1, ensure_ascii=False)
        f.write("\n")
    sys.stdout.write(text)
    return 0


def main():
    p = argparse.ArgumentParser(prog="control_tool.py", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("gen")
    g.add_argument("dir")
    g.add_argument("n", type=int)
    g.add_argument("privkey")
    g.add_argument("port", type=int)
    g.add_argument("--chunk", type=int, default=2000)
    b = sub.add_parser("burst")
    b.add_argument("--pid", type=int, required=True)
    b.add_argument("--port", type=int, required=True)
    b.add_argument("--pub", required=True)
    b.add_argument("--count", type=int, default=10000)
    b.add_argument("--settle", type=float, default=2.0)
    b.add_argument("--tag", action="append", default=[])
    r = sub.add_parser("report")
    r.add_argument("dir")
    a = p.parse_args()
    if a.cmd == "gen":
        if a.n < 0 or a.chunk < 1:
            p.error("N >= 0 and --chunk >= 1")
        return cmd_gen(a)
    if a.cmd == "burst":
        return cmd_burst(a)
    return report(a.dir)


if __name__ == "__main__":
    sys.exit(main())
