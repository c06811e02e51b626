#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""e2e_report.py DIR - tables, raw numbers and a plot from a run of
perf/bench-e2e.sh (or scripts/demo-netns.sh).

Reads DIR/runs.jsonl (one record per iperf3 run, ping and pair, written by
perf/e2e_lib.sh), DIR/raw/*.json (iperf3 --json) and DIR/meta.json; writes
DIR/results.md, DIR/results.json and DIR/results.svg and prints results.md.
Medians over the repetitions; anything missing or failed is "-".

Figures, per pair and test:
  Gbit/s         receiver's rate (iperf3 end.sum_received); for UDP the
                 achieved receive rate, not the offered one
  retransmits    TCP: end.sum_sent.retransmits (the sending side's)
  loss %         UDP: end.sum_received.lost_percent
  daemon CPU/GB  utime+stime of both tunnel daemons over the run (clock
                 ticks from /proc/PID/stat) / GB received (1 GB = 1e9 bytes)
  iperf3 CPU/GB  iperf3's own cpu_utilization_percent (client + server,
                 user + system) x run length / GB received: the kernel's
                 TCP/UDP and veth work that lands in the iperf3 processes
Ratios are computed per test from the medians of the same run.
"""
import argparse
import json
import os
import statistics
import sys

TESTS = {
    "tcp1-ab": "TCP ×1 A→B",
    "tcp1-ba": "TCP ×1 B→A",
    "tcp4-ab": "TCP ×4 A→B",
    "tcp4-ba": "TCP ×4 B→A",
    "udp-ab": "UDP A→B",
    "udp-ba": "UDP B→A",
}
# Pair ids with a meaning for the ratios.
VETH, WB, GO = "veth", "wb", "go"


def load_jsonl(path):
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if line:
                try:
                    out.append(json.loads(line))
                except ValueError as e:
                    print(f"e2e_report: {path}: bad line ({e}): {line[:80]}", file=sys.stderr)
    return out


def parse_iperf(d, rec):
    """One run's figures, or None with a reason."""
    path = os.path.join(d, rec["file"])
    try:
        with open(path, encoding="utf-8") as f:
            j = json.load(f)
    except (OSError, ValueError) as e:
        return None, f"no iperf3 JSON ({e.__class__.__name__})"
    if j.get("error"):
        return None, j["error"]
    if rec.get("rc", 0) != 0:
        return None, f"iperf3 exit status {rec['rc']}"
    end = j.get("end", {})
    recv = end.get("sum_received") or {}
    sent = end.get("sum_sent") or {}
    udp = rec["test"].startswith("udp")
    r = {"test": rec["test"], "rep": rec["rep"]}
    if udp:
        s = end.get("sum", {})
        bps = recv.get("bits_per_second")
        if bps is None and "bits_per_second" in s:
            bps = s["bits_per_second"] * (1 - s.get("lost_percent", 0) / 100)
        r["loss_pct"] = recv.get("lost_percent", s.get("lost_percent"))
        r["bytes"] = recv.get("bytes", s.get("bytes"))
        r["sent_bytes"] = sent.get("bytes")
    else:
        bps = recv.get("bits_per_second")
        r["retransmits"] = sent.get("retransmits")
        r["bytes"] = recv.get("bytes")
    if bps is None or not r["bytes"]:
        return None, "no receiver figures in the iperf3 JSON"
    r["gbps"] = bps / 1e9
    gb = r["bytes"] / 1e9
    secs = sent.get("seconds") or rec.get("seconds") or 0
    cpu = end.get("cpu_utilization_percent") or {}
    if "host_total" in cpu and "remote_total" in cpu:
        r["iperf_cpu_s"] = (cpu["host_total"] + cpu["remote_total"]) / 100 * secs
        r["iperf_cpu_s_per_gb"] = r["iperf_cpu_s"] / gb
    if rec.get("daemons", 0) > 0:
        r["daemon_cpu_s"] = rec["daemon_ticks"] / rec["clk_tck"]
        r["daemon_cpu_s_per_gb"] = r["daemon_cpu_s"] / gb
    return r, None


def median(vals):
    vals = [v for v in vals if v is not None]
    return statistics.median(vals) if vals else None


def fmt(v, digits=2, suffix=""):
    if v is None:
        return "-"
    if isinstance(v, int):
        return f"{v}{suffix}"
    return f"{v:.{digits}f}{suffix}"


def fmt_ratio(v):
    """3 significant digits: 0.0691×, 0.312×, 2.21×."""
    return "-" if v is None else f"{v:.3g}×"


def ratio(a, b):
    return a / b if a is not None and b not in (None, 0) else None


def analyse(d):
    recs = load_jsonl(os.path.join(d, "runs.jsonl"))
    meta = {}
    try:
        with open(os.path.join(d, "meta.json"), encoding="utf-8") as f:
            meta = json.load(f)
    except (OSError, ValueError):
        pass
    pairs, labels, status = [], {}, {}
    runs, pings = {}, {}
    tests = []
    for rec in recs:
        p = rec.get("pair")
        if p is None:
            continue
        if p not in labels:
            pairs.append(p)
            labels[p] = rec.get("label", p)
        t = rec.get("type")
        if t == "pair":
            status[p] = {"status": rec["status"], "reason": rec.get("reason", "")}
        elif t == "iperf":
            if rec["test"] not in tests:
                tests.append(rec["test"])
            r, why = parse_iperf(d, rec)
            if r is None:
                r = {"test": rec["test"], "rep": rec["rep"], "failed": why}
            runs.setdefault(p, []).append(r)
        elif t == "ping":
            try:
                avg = float(rec["avg_ms"])
            except (TypeError, ValueError):
                avg = None
            pings.setdefault(p, {}).setdefault(rec["state"], []).append(
                {"rep": rec["rep"], "avg_ms": avg, "rx": rec["rx"], "n": rec["n"],
                 "max_ms": rec.get("max_ms")})
    tests = [t for t in TESTS if t in tests] + [t for t in tests if t not in TESTS]
    # The order the run meant (meta "pairs"), then any others as they came.
    order = str(meta.get("pairs", "")).split()
    pairs.sort(key=lambda p: order.index(p) if p in order else len(order))

    med = {}
    keys = ["gbps", "retransmits", "loss_pct", "daemon_cpu_s_per_gb", "iperf_cpu_s_per_gb", "bytes"]
    for p in pairs:
        med[p] = {}
        for t in tests:
            rs = [r for r in runs.get(p, []) if r["test"] == t and "failed" not in r]
            m = {k: median([r.get(k) for r in rs]) for k in keys}
            m["ok_runs"] = len(rs)
            med[p][t] = m
    lat = {}
    for p in pairs:
        lat[p] = {}
        for state in ("idle", "loaded"):
            ps = pings.get(p, {}).get(state, [])
            # Only pings with every reply count (a lost reply has no RTT of its own).
            lat[p][state] = median([x["avg_ms"] for x in ps])
            lat[p][state + "_replies"] = f"{sum(x['rx'] for x in ps)}/{sum(x['n'] for x in ps)}" if ps else "-"

    ratios = {}
    def g(p, t, k="gbps"):
        return med.get(p, {}).get(t, {}).get(k)
    for p in pairs:
        if p == VETH or VETH not in med:
            continue
        ratios[f"{p}/veth"] = {t: ratio(g(p, t), g(VETH, t)) for t in tests}
    if WB in med and GO in med:
        ratios["wb/go"] = {t: ratio(g(WB, t), g(GO, t)) for t in tests}
        ratios["wb/go daemon_cpu_per_gb"] = {
            t: ratio(g(WB, t, "daemon_cpu_s_per_gb"), g(GO, t, "daemon_cpu_s_per_gb")) for t in tests}
        ratios["wb/go ping"] = {s: ratio(lat[WB][s], lat[GO][s]) for s in ("idle", "loaded")}

    counters = {}
    for p in pairs:
        f = os.path.join(d, f"counters-{p}.txt")
        if os.path.exists(f):
            with open(f, encoding="utf-8", errors="replace") as fh:
                counters[p] = fh.read()
    return {"meta": meta, "tests": tests, "test_names": {t: TESTS.get(t, t) for t in tests},
            "pairs": [{"id": p, "label": labels[p], **status.get(p, {"status": "incomplete"})}
                      for p in pairs],
            "median": med, "latency": lat, "ratios": ratios, "runs": runs, "pings": pings,
            "counters": counters}


def row(cells):
    return "| " + " | ".join(cells) + " |"


def markdown(res, brief=False):
    tests, pairs, med, lat = res["tests"], res["pairs"], res["median"], res["latency"]
    label = {p["id"]: p["label"] for p in pairs}
    m = res["meta"]
    tn = [res["test_names"][t] for t in tests]
    out = []
    title = m.get("title", "wirebolt end-to-end benchmark")
    out.append(f"# {title}")
    out.append("")
    bits = []
    if m.get("date"):
        bits.append(m["date"])
    if m.get("cpus"):
        bits.append(f"{m['cpus']} CPUs ({m.get('cpu_model', '?')})")
    if m.get("kernel"):
        bits.append(f"Linux {m['kernel']}")
    if m.get("loadavg"):
        bits.append(f"load average at start {m['loadavg']}")
    out.append(", ".join(bits) + ".")
    out.append("")
    reps = m.get("reps", 1)
    out.append(f"iperf3 {m.get('duration', '?')} s per run, {reps} repetition{'s' if reps != 1 else ''}"
               f"{' (median)' if reps != 1 else ''}; A initiates the tunnel and runs the iperf3 client, "
               "B→A is `-R`; TCP ×4 is `-P 4`; UDP is `-u -b 0 -l 1380` (achieved receive rate). "
               "Tunnels: MTU 1420 over a veth pair; veth: MTU 1500, no tunnel (the ceiling). "
               f"Versions: {m.get('versions', '?')}.")
    out.append("")

    # Throughput and latency.
    out.append("## Throughput (Gbit/s) and ping RTT (ms, A→B, 20 × 50 ms)")
    out.append("")
    out.append(row(["pair"] + tn + ["ping idle", "ping under TCP ×1 B→A"]))
    out.append(row(["---"] + ["---:"] * (len(tn) + 2)))
    for p in pairs:
        i = p["id"]
        out.append(row([label[i]] + [fmt(med[i][t]["gbps"]) for t in tests]
                       + [fmt(lat[i]["idle"], 3), fmt(lat[i]["loaded"], 3)]))
    for k, v in res["ratios"].items():
        if k.endswith("/veth"):
            p = k[:-5]
            out.append(row([f"*{label[p]} ÷ veth*"] + [fmt_ratio(v[t]) for t in tests] + ["", ""]))
    if "wb/go" in res["ratios"]:
        r = res["ratios"]
        out.append(row([f"**{label[WB]} ÷ {label[GO]}**"] + [fmt_ratio(r["wb/go"][t]) for t in tests]
                       + [fmt_ratio(r["wb/go ping"]["idle"]), fmt_ratio(r["wb/go ping"]["loaded"])]))
    out.append("")

    # CPU.
    tun = [p["id"] for p in pairs if p["id"] != VETH]
    if tun:
        out.append("## Tunnel daemons' CPU, seconds per GB received (both ends, user + system)")
        out.append("")
        out.append(row(["pair"] + tn))
        out.append(row(["---"] + ["---:"] * len(tn)))
        for i in tun:
            out.append(row([label[i]] + [fmt(med[i][t]["daemon_cpu_s_per_gb"]) for t in tests]))
        if "wb/go daemon_cpu_per_gb" in res["ratios"]:
            r = res["ratios"]["wb/go daemon_cpu_per_gb"]
            out.append(row([f"**{label[WB]} ÷ {label[GO]}**"] + [fmt_ratio(r[t]) for t in tests]))
        out.append("")
    if brief:
        return "\n".join(out + failure_notes(res))
    out.append("## iperf3 processes' CPU (client + server, kernel network stack included), seconds per GB")
    out.append("")
    out.append(row(["pair"] + tn))
    out.append(row(["---"] + ["---:"] * len(tn)))
    for p in pairs:
        i = p["id"]
        out.append(row([label[i]] + [fmt(med[i][t]["iperf_cpu_s_per_gb"]) for t in tests]))
    out.append("")

    # Retransmits and loss.
    out.append("## TCP retransmits (sender) and UDP loss (%)")
    out.append("")
    out.append(row(["pair"] + tn))
    out.append(row(["---"] + ["---:"] * len(tn)))
    for p in pairs:
        i = p["id"]
        cells = []
        for t in tests:
            mm = med[i][t]
            if t.startswith("udp"):
                cells.append(fmt(mm["loss_pct"], 1, " %"))
            else:
                v = mm["retransmits"]
                cells.append("-" if v is None else f"{v:.0f}")
        out.append(row([label[i]] + cells))
    out.append("")

    return "\n".join(out + failure_notes(res))


def failure_notes(res):
    pairs, lat, med, tests = res["pairs"], res["latency"], res["median"], res["tests"]
    label = {p["id"]: p["label"] for p in pairs}
    def pair_ok(p):
        return any(med[p][t]["ok_runs"] for t in tests)
    out, notes = [], []
    for p in pairs:
        i = p["id"]
        if p.get("status") != "ok":
            notes.append(f"- {label[i]}: {p.get('status')}{': ' + p['reason'] if p.get('reason') else ''}")
        fails = [r for r in res["runs"].get(i, []) if "failed" in r]
        for r in fails:
            notes.append(f"- {label[i]} {res['test_names'].get(r['test'], r['test'])} "
                         f"(repetition {r['rep']}): {r['failed']}")
        for s in ("idle", "loaded"):
            rep = lat[i].get(s + "_replies", "-")
            if rep != "-":
                a, b = rep.split("/")
                if a != b:
                    notes.append(f"- {label[i]}: ping {s}: {rep} replies")
        if not pair_ok(p["id"]) and p.get("status") == "ok":
            notes.append(f"- {label[i]}: no iperf3 run succeeded")
    if notes:
        out.append("Failures and lost pings:")
        out.append("")
        out.extend(notes)
        out.append("")
    return out


def svg(res):
    tests, pairs, med = res["tests"], res["pairs"], res["median"]
    colors = ["#9e9e9e", "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2"]
    W, H = 960, 460
    left, right, top, bottom = 70, 20, 70, 60
    pw, ph = W - left - right, H - top - bottom
    vals = [med[p["id"]][t]["gbps"] for p in pairs for t in tests]
    vmax = max([v for v in vals if v is not None] or [1.0])
    # Plain veth is often 10-50x any tunnel: then the axis fits the tunnels
    # and the veth bars are cut off at the top (their figure printed there).
    tvals = [med[p["id"]][t]["gbps"] for p in pairs if p["id"] != VETH for t in tests]
    tmax = max([v for v in tvals if v is not None] or [0.0])
    clipped = tmax > 0 and vmax > 4 * tmax
    if clipped:
        vmax = tmax * 1.15
    # A round axis maximum: 1, 2, 2.5, 5 x 10^n.
    step = 10 ** len(str(int(vmax))) / 100 if vmax >= 1 else 0.1
    for mult in (1, 2, 2.5, 5, 10, 20, 25, 50, 100):
        if vmax / (step * mult) <= 8:
            step *= mult
            break
    ymax = step * (int(vmax / step) + 1)
    def y(v):
        return top + ph - v / ymax * ph
    e = []
    e.append(f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" '
             f'viewBox="0 0 {W} {H}" font-family="sans-serif" font-size="12">')
    e.append(f'<rect width="{W}" height="{H}" fill="white"/>')
    title = res["meta"].get("title", "wirebolt end-to-end benchmark")
    e.append(f'<text x="{W / 2}" y="20" text-anchor="middle" font-size="15" font-weight="bold">'
             f'{esc(title)}: throughput, Gbit/s</text>')
    # Grid and axis.
    v = 0.0
    while v <= ymax + 1e-9:
        e.append(f'<line x1="{left}" x2="{left + pw}" y1="{y(v):.1f}" y2="{y(v):.1f}" stroke="#ddd"/>')
        e.append(f'<text x="{left - 6}" y="{y(v) + 4:.1f}" text-anchor="end">{v:g}</text>')
        v += step
    e.append(f'<line x1="{left}" x2="{left}" y1="{top}" y2="{top + ph}" stroke="black"/>')
    e.append(f'<line x1="{left}" x2="{left + pw}" y1="{top + ph}" y2="{top + ph}" stroke="black"/>')
    e.append(f'<text x="16" y="{top + ph / 2}" transform="rotate(-90 16 {top + ph / 2})" '
             f'text-anchor="middle">Gbit/s (receiver)</text>')
    n = max(len(pairs), 1)
    gw = pw / max(len(tests), 1)
    bw = gw * 0.8 / n
    for ti, t in enumerate(tests):
        gx = left + ti * gw + gw * 0.1
        e.append(f'<text x="{left + ti * gw + gw / 2:.1f}" y="{top + ph + 18}" text-anchor="middle">'
                 f'{esc(res["test_names"][t])}</text>')
        for pi, p in enumerate(pairs):
            val = med[p["id"]][t]["gbps"]
            x = gx + pi * bw
            c = colors[pi % len(colors)]
            if val is None:
                e.append(f'<text x="{x + bw / 2:.1f}" y="{top + ph - 4}" text-anchor="middle" '
                         f'font-size="10" fill="{c}">-</text>')
                continue
            cut = val > ymax
            yv = y(min(val, ymax))
            e.append(f'<rect x="{x:.1f}" y="{yv:.1f}" width="{bw * 0.92:.1f}" '
                     f'height="{top + ph - yv:.1f}" fill="{c}"><title>{esc(p["label"])} '
                     f'{esc(res["test_names"][t])}: {val:.2f} Gbit/s</title></rect>')
            if cut:   # a white zigzag across the bar: cut off
                z = " ".join(f"{x + k * bw * 0.92 / 4:.1f},{yv + 14 + (4 if k % 2 else 0):.1f}" for k in range(5))
                e.append(f'<polyline points="{z}" fill="none" stroke="white" stroke-width="3"/>')
            bold = ' font-weight="bold"' if cut else ""
            e.append(f'<text x="{x + bw * 0.46:.1f}" y="{yv - 3:.1f}" text-anchor="middle" '
                     f'font-size="9"{bold}>{val:.{2 if val < 10 else 1}f}</text>')
    # Legend.
    lx = left
    for pi, p in enumerate(pairs):
        c = colors[pi % len(colors)]
        e.append(f'<rect x="{lx}" y="36" width="12" height="12" fill="{c}"/>')
        e.append(f'<text x="{lx + 16}" y="46">{esc(p["label"])}</text>')
        lx += 24 + 7 * len(p["label"])
    m = res["meta"]
    e.append(f'<text x="{left}" y="{H - 12}" font-size="10" fill="#555">'
             f'{esc(m.get("date", ""))}, {esc(str(m.get("cpus", "?")))} CPUs, iperf3 '
             f'{esc(str(m.get("duration", "?")))} s × {esc(str(m.get("reps", 1)))} (median); '
             f'tunnels MTU 1420, veth MTU 1500'
             f'{"; veth bars cut off (figure on top)" if clipped else ""}</text>')
    e.append("</svg>")
    return "\n".join(e) + "\n"


def esc(s):
    return str(s).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dir")
    ap.add_argument("--quiet", action="store_true", help="write the files, print nothing")
    ap.add_argument("--brief", action="store_true",
                    help="print only the throughput and daemon CPU tables (the files are complete)")
    a = ap.parse_args()
    res = analyse(a.dir)
    md = markdown(res)
    with open(os.path.join(a.dir, "results.md"), "w", encoding="utf-8") as f:
        f.write(md + "\n")
    with open(os.path.join(a.dir, "results.json"), "w", encoding="utf-8") as f:
        json.dump(res, f, indent=1, ensure_ascii=False)
        f.write("\n")
    with open(os.path.join(a.dir, "results.svg"), "w", encoding="utf-8") as f:
        f.write(svg(res))
    if not a.quiet:
        print(markdown(res, brief=True) if a.brief else md)
    ok = any(m["ok_runs"] for p in res["median"].values() for m in p.values())
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
