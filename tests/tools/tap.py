"""The test lines of the Python checks inside tests/cli/*.sh: "ok - PROG: name",
"not ok - PROG: name: why" and "skip - PROG: name: why", which tests/run.sh counts.

    import tap
    tap.PROG = "grafana_dashboards"
    tap.report("every query names a known field", problems)
    sys.exit(1 if tap.failures else 0)
"""
PROG = "?"
failures = 0


def ok(name):
    print("ok - %s: %s" % (PROG, name))


def nok(name, why):
    global failures
    failures += 1
    print("not ok - %s: %s: %s" % (PROG, name, why))


def skip(name, why):
    print("skip - %s: %s: %s" % (PROG, name, why))


def report(name, problems):
    """ok when the list of problems is empty, else one failure naming the first six."""
    if problems:
        more = " (and %d more)" % (len(problems) - 6) if len(problems) > 6 else ""
        nok(name, "; ".join(problems[:6]) + more)
    else:
        ok(name)
