#!/usr/bin/python3
"""Scores RUL estimates of `vibewatch replay --json` on a PRONOSTIA run-to-failure bearing.

usage: pronostia_score.py NAME REPLAY.jsonl  → one JSON line of results on stdout

Truth: the recording ends at the failure (the IEEE PHM 2012 challenge's ground truth), so the
actual RUL at snapshot time t is t_end − t. At 50, 70, 80 and 90 % of life the bearing's estimate
is the earliest end among its channels (a machine fails when its first bearing channel does),
read from the last snapshot line at or before that time. The challenge's score of one estimate:
Er = 100·(ActRUL − EstRUL)/ActRUL; A = exp(−ln(0.5)·Er/5) when Er ≤ 0 (a late estimate),
exp(+ln(0.5)·Er/20) when Er > 0 (early), so 5 % late costs as much as 20 % early. The point
estimate scored is the lower end of the 80 % interval (rul_lo_h, the 10th percentile): with a
loss that punishes late four times harder, the expected-score-optimal point is a low quantile
(about 1/(1+4) = 0.2 for a symmetric-in-log loss), and 0.1 is the one the box reports. The
median's score is printed beside it. Stdlib only."""
import json, math, sys
from datetime import datetime

def ts(s):
    return datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ").timestamp() / 3600.0

def score(act, est):
    if est is None or act <= 0:
        return 0.0
    er = 100.0 * (act - est) / act
    return math.exp(-math.log(0.5) * er / 5) if er <= 0 else math.exp(math.log(0.5) * er / 20)

def main():
    name, path = sys.argv[1], sys.argv[2]
    snaps, events = [], []
    for line in open(path):
        if not line.startswith("{"):
            continue
        d = json.loads(line)
        if "event" in d:
            events.append(d)
        else:
            snaps.append(d)
    t0 = min(ts(d["t"]) for d in snaps)
    t_end = max(ts(d["t"]) for d in snaps)
    life = t_end - t0
    onset = [ts(d["onset"]) for d in snaps if d.get("onset")]
    onset_h = min(onset) if onset else None
    cause = {(d["t"], d["channel"]): d.get("cause") for d in snaps}
    warn_before = zone_d_before = 0
    first_warn = None
    for e in events:
        if e.get("event") == "state" and e.get("to") in ("warning", "alarm"):
            t = ts(e["t"])
            why = cause.get((e["t"], e["channel"]))
            if why in ("iso_zone_d", "limit_reached"):  # measured, not predicted: counted apart
                if onset_h is None or t < onset_h:
                    zone_d_before += 1
                continue
            first_warn = t if first_warn is None else min(first_warn, t)
            if onset_h is None or t < onset_h:
                warn_before += 1
    out = {"bearing": name, "life_h": round(life, 4), "snapshots": len({d["t"] for d in snaps}),
           "onset_frac": round((onset_h - t0) / life, 3) if onset_h is not None else None,
           "warnings_before_onset": warn_before, "zone_d_alarms_before_onset": zone_d_before,
           "first_warning_frac": round((first_warn - t0) / life, 3) if first_warn is not None else None,
           "checkpoints": []}
    by_t = {}
    for d in snaps:
        by_t.setdefault(ts(d["t"]), []).append(d)
    times = sorted(by_t)
    for frac in (0.5, 0.7, 0.8, 0.9):
        tc = t0 + frac * life
        t = max(x for x in times if x <= tc + 1e-9)
        act = t_end - t
        best = None
        for d in by_t[t]:
            lo, med, basis = d.get("rul_lo_h"), d.get("rul_h"), d.get("rul_basis")
            if basis in (None, "null") or lo is None:
                continue
            if best is None or lo < best[0]:
                best = (lo, med, basis)
        est, med, basis = best if best else (None, None, "null")
        out["checkpoints"].append({"frac": frac, "actual_h": round(act, 4), "est_h": est, "median_h": med,
                                   "basis": basis, "error_pct": round(100 * (act - est) / act, 1) if est is not None else None,
                                   "score": round(score(act, est), 4), "score_median": round(score(act, med), 4)})
    out["score"] = round(sum(c["score"] for c in out["checkpoints"]) / 4, 4)
    out["score_median"] = round(sum(c["score_median"] for c in out["checkpoints"]) / 4, 4)
    print(json.dumps(out))

main()
