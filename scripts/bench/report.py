#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Turn rq-bench's output (scripts/rq bench) into results.tsv, a Markdown
table with each transport's ratio to rustqueue, the goals, and the data of
the chart.  Fails when a measurement is missing or malformed, so that a
short run (scripts/rq check) proves the whole pipeline without judging speed.

usage: report.py RAW OUTDIR
"""
import statistics
import sys

TRANSPORTS = ["rustqueue", "pipe", "mqueue", "sysv", "seqpacket", "floor"]
SIZES = [16, 64, 256, 1024, 4096]
MEMORY = ["rustqueue", "mqueue", "sysv"]
CONTENTION = (4, 4, 64)
# rq-bench -q: these transports, one queue and this many side by side.
QUEUE_TRANSPORTS = ["rustqueue", "pipe"]
QUEUES, QUEUE_SIZE = 2, 64
# rq-bench -b: these transports, batches (messages per call) and sizes.
BATCH_TRANSPORTS = ["rustqueue-records", "seqpacket-mmsg", "pipe-uring", "rustqueue-uring", "floor"]
BATCHES, BATCH_SIZES = [1, 16, 64], [64, 4096]
# A candidate interface built only for the comparison (not in the series).
CANDIDATES = ["rustqueue-mmsg"]


def fail(msg):
    sys.exit("report.py: " + msg)


def measurement(line, field):
    """RATE MB_PER_S MIN MAX N REPS, checked."""
    rate, mb, lo, hi = (float(x) for x in field[:4])
    if rate <= 0 or lo <= 0 or hi < lo:
        fail("bad measurement: " + line.strip())
    return dict(rate=rate, mb=mb, lo=lo, hi=hi, n=int(field[4]), reps=int(field[5]))


def parse(path):
    results, memory, queues, ratios, info, batch = {}, {}, {}, {}, {}, {}
    with open(path) as f:
        for line in f:
            field = line.rstrip("\n").split("\t")
            if field[0] == "result" and len(field) == 12:
                name, w, r, size, b = field[1], int(field[2]), int(field[3]), int(field[4]), int(field[5])
                m = measurement(line, field[6:])
                # The floor runs in both: its batch-1 row of the -b run goes to the batch table.
                if b == 1 and name in TRANSPORTS and (name, w, r, size) not in results:
                    results[(name, w, r, size)] = m
                elif name not in BATCH_TRANSPORTS + CANDIDATES or (w, r) != (1, 1):
                    fail("unexpected measurement: " + line.strip())
                if name in BATCH_TRANSPORTS + CANDIDATES and (w, r) == (1, 1):
                    batch[(name, size, b)] = m
            elif field[0] == "queues" and len(field) == 10:
                name, nq, size = field[1], int(field[2]), int(field[3])
                queues[(name, nq, size)] = measurement(line, field[4:])
            elif field[0] == "scaling" and len(field) == 8:
                med, lo, hi = (float(x) for x in field[4:7])
                if med <= 0 or lo <= 0 or hi < lo:
                    fail("bad measurement: " + line.strip())
                ratios[(field[1], int(field[2]), int(field[3]))] = dict(median=med, lo=lo, hi=hi)
            elif field[0] == "memory" and len(field) == 6:
                memory[field[1]] = dict(count=int(field[2]), size=int(field[3]),
                                        slab=int(field[4]), per_msg=float(field[5]))
            elif len(field) == 2:
                info[field[0]] = field[1]
            else:
                fail("unexpected line: " + line.strip())
    want = [(t, 1, 1, s) for t in TRANSPORTS for s in SIZES]
    want += [(t,) + CONTENTION[:2] + CONTENTION[2:] for t in TRANSPORTS]
    missing = [k for k in want if k not in results]
    if missing:
        fail("no measurement for %s" % ", ".join("%s %dx%d %d B" % k for k in missing))
    if sorted(memory) != sorted(MEMORY):
        fail("memory figures for %s, not %s" % (sorted(memory), MEMORY))
    want = [(t, nq, QUEUE_SIZE) for t in QUEUE_TRANSPORTS for nq in (1, QUEUES)]
    missing = [k for k in want if k not in queues]
    missing += [(t, QUEUES, QUEUE_SIZE) for t in QUEUE_TRANSPORTS if (t, QUEUES, QUEUE_SIZE) not in ratios]
    if missing:
        fail("no measurement for %s" % ", ".join("%d %s queues at %d B" % (k[1], k[0], k[2])
                                                 for k in missing))
    for t in QUEUE_TRANSPORTS:
        queues[(t, QUEUES, QUEUE_SIZE)]["scaling"] = ratios[(t, QUEUES, QUEUE_SIZE)]
    missing = [(t, s, b) for t in BATCH_TRANSPORTS for s in BATCH_SIZES for b in BATCHES
               if (t, s, b) not in batch]
    if missing:
        fail("no measurement for %s" % ", ".join("%s %d B batch %d" % k for k in missing))
    return results, memory, queues, info, batch


def rate(v):
    return "{:,}".format(round(v))


def cell(res, key, base):
    v = res[key]
    spread = (v["hi"] - v["lo"]) / v["rate"] * 100
    text = "%s (%.0f%%)" % (rate(v["rate"]), spread)
    if key[0] != "rustqueue":
        text += " **%.2fx**" % (base / v["rate"])
    return text


def table(res, w, r, sizes):
    head = "| size (bytes) | " + " | ".join(TRANSPORTS) + " |"
    lines = [head, "|" + "---:|" * (len(TRANSPORTS) + 1)]
    for s in sizes:
        base = res[("rustqueue", w, r, s)]["rate"]
        lines.append("| %d | " % s + " | ".join(cell(res, (t, w, r, s), base) for t in TRANSPORTS) + " |")
    return lines


def mb_table(res, w, r, sizes):
    lines = ["| size (bytes) | " + " | ".join(TRANSPORTS) + " |",
             "|" + "---:|" * (len(TRANSPORTS) + 1)]
    for s in sizes:
        lines.append("| %d | " % s + " | ".join("%.1f" % res[(t, w, r, s)]["mb"] for t in TRANSPORTS) + " |")
    return lines


def scaling(queues, t):
    """The median of the repetitions' own ratios: each repetition's runs
    with one queue and with many follow each other."""
    return queues[(t, QUEUES, QUEUE_SIZE)]["scaling"]


def queue_table(queues):
    lines = ["| transport | 1 queue | %d queues | %d queues / 1 (lowest to highest) |" % (QUEUES, QUEUES),
             "|---|---:|---:|---:|"]
    for t in QUEUE_TRANSPORTS:
        one, many, sc = queues[(t, 1, QUEUE_SIZE)], queues[(t, QUEUES, QUEUE_SIZE)], scaling(queues, t)
        lines.append("| %s | %s (%.0f%%) | %s (%.0f%%) | %.2f (%.2f to %.2f) |"
                     % (t, rate(one["rate"]), (one["hi"] - one["lo"]) / one["rate"] * 100,
                        rate(many["rate"]), (many["hi"] - many["lo"]) / many["rate"] * 100,
                        sc["median"], sc["lo"], sc["hi"]))
    return lines


def ratio(a, b):
    """a / b: the ratio of the medians, and its range over the repetitions
    (a's lowest over b's highest, a's highest over b's lowest)."""
    return a["rate"] / b["rate"], a["lo"] / b["hi"], a["hi"] / b["lo"]


def goal_row(name, r, target, at_least=True):
    """A goal is met when the whole range of the ratio is on the right side
    of the target: one boot's spread must not decide it."""
    med, lo, hi = r
    worst = lo if at_least else hi
    ok = worst >= target if at_least else worst <= target
    near = med >= target if at_least else med <= target
    met = "yes" if ok else ("median only" if near else "**no**")
    return "| %s | %.2f (%.2f to %.2f) | %s %.2f | %s |" % (
        name, med, lo, hi, ">=" if at_least else "<=", target, met)


def best_one_per_call(res, size):
    """The fastest transport moving one message per call (not the floor)."""
    return max((t for t in TRANSPORTS if t != "floor"), key=lambda t: res[(t, 1, 1, size)]["rate"])


def goals(res, memory, queues, batch):
    one = lambda t, s: res[(t, 1, 1, s)]
    rec = batch[("rustqueue-records", 64, 16)]
    best = best_one_per_call(res, 64)
    lines = ["| goal | ratio of the medians (range over the repetitions) | target | met |",
             "|---|---:|---:|---|",
             goal_row("rustqueue / pipe at 64 bytes", ratio(one("rustqueue", 64), one("pipe", 64)), 1.0),
             goal_row("rustqueue / pipe at 4096 bytes", ratio(one("rustqueue", 4096), one("pipe", 4096)), 1.0),
             goal_row("rustqueue / mqueue at 64 bytes", ratio(one("rustqueue", 64), one("mqueue", 64)), 1.5),
             goal_row("rustqueue / sysv at 64 bytes", ratio(one("rustqueue", 64), one("sysv", 64)), 1.5),
             goal_row("floor / rustqueue at 64 bytes", ratio(one("floor", 64), one("rustqueue", 64)), 2.0, False),
             goal_row("rustqueue / pipe, %d writers and %d readers at %d bytes" % CONTENTION,
                      ratio(res[("rustqueue",) + CONTENTION], res[("pipe",) + CONTENTION]), 1.2),
             goal_row("rustqueue-records batch 16 / the best one-message-per-call transport (%s) at 64 bytes"
                      % best, ratio(rec, one(best, 64)), 4.0),
             goal_row("rustqueue-records / seqpacket-mmsg, batch 16 at 64 bytes",
                      ratio(rec, batch[("seqpacket-mmsg", 64, 16)]), 1.5),
             goal_row("rustqueue-records / pipe-uring, batch 16 at 64 bytes",
                      ratio(rec, batch[("pipe-uring", 64, 16)]), 2.0),
             goal_row("rustqueue-records / the batch floor, batch 16 at 64 bytes",
                      ratio(rec, batch[("floor", 64, 16)]), 0.5)]
    over = memory["rustqueue"]["per_msg"] - memory["rustqueue"]["size"]
    lines.append("| rustqueue bytes per 64-byte message beyond its payload | %.1f | <= 64 | %s |"
                 % (over, "yes" if over <= 64 else "**no**"))
    sc = scaling(queues, "rustqueue")
    lines.append("| rustqueue, %d queues / 1 queue at %d bytes (median of the repetitions' ratios) "
                 "| %.2f (%.2f to %.2f) | >= 1.80 | %s |"
                 % (QUEUES, QUEUE_SIZE, sc["median"], sc["lo"], sc["hi"],
                    "yes" if sc["lo"] >= 1.8 else ("median only" if sc["median"] >= 1.8 else "**no**")))
    return lines


def batch_table(batch):
    """Messages per second with many per call, and records' ratio to each."""
    names = BATCH_TRANSPORTS + [t for t in CANDIDATES if (t, BATCH_SIZES[0], BATCHES[0]) in batch]
    lines = ["| size (bytes) | batch | " + " | ".join(names) + " |",
             "|" + "---:|" * (len(names) + 2)]
    for s in BATCH_SIZES:
        for b in BATCHES:
            base = batch[("rustqueue-records", s, b)]["rate"]
            cells = []
            for t in names:
                v = batch[(t, s, b)]
                text = "%s (%.0f%%)" % (rate(v["rate"]), (v["hi"] - v["lo"]) / v["rate"] * 100)
                if t != "rustqueue-records":
                    text += " **%.2fx**" % (base / v["rate"])
                cells.append(text)
            lines.append("| %d | %d | " % (s, b) + " | ".join(cells) + " |")
    return lines


def main():
    if len(sys.argv) != 3:
        fail("usage: report.py RAW OUTDIR")
    res, memory, queues, info, batch = parse(sys.argv[1])
    out = sys.argv[2]
    with open(out + "/results.tsv", "w") as f:
        for (t, w, r, s), v in sorted(res.items(), key=lambda kv: (kv[0][1], TRANSPORTS.index(kv[0][0]), kv[0][3])):
            f.write("%s\t1\t%d\t%d\t%d\t1\tsplit\t%.0f\t%.2f\n" % (t, w, r, s, v["rate"], v["mb"]))
        for (t, nq, s), v in sorted(queues.items(), key=lambda kv: (QUEUE_TRANSPORTS.index(kv[0][0]), kv[0][1])):
            f.write("%s\t%d\t1\t1\t%d\t1\tpaired\t%.0f\t%.2f\n" % (t, nq, s, v["rate"], v["mb"]))
        # The floor's batch-1 rows are the main run's, above.
        for (t, s, b), v in sorted(batch.items()):
            if (t, b) != ("floor", 1):
                f.write("%s\t1\t1\t1\t%d\t%d\tsplit\t%.0f\t%.2f\n" % (t, s, b, v["rate"], v["mb"]))
    with open(out + "/chart.dat", "w") as f:
        f.write("# size " + " ".join(TRANSPORTS) + "\n")
        for s in SIZES:
            f.write("%d %s\n" % (s, " ".join("%.0f" % res[(t, 1, 1, s)]["rate"] for t in TRANSPORTS)))
    with open(out + "/chart-batch.dat", "w") as f:
        f.write("# batch " + " ".join(BATCH_TRANSPORTS) + " (64 bytes)\n")
        for b in BATCHES:
            f.write("%d %s\n" % (b, " ".join("%.0f" % batch[(t, 64, b)]["rate"] for t in BATCH_TRANSPORTS)))
    reps = {v["reps"] for v in list(res.values()) + list(queues.values()) + list(batch.values())}
    md = [
        "Kernel %s, %s CPUs (QEMU, software emulation, idle=poll); the median of %s repetitions, "
        "the spread (highest minus lowest rate, over the median) in parentheses, and in bold "
        "rustqueue's messages/s divided by the transport's (above 1.00x rustqueue is faster)."
        % (info.get("kernel", "?"), info.get("cpus", "?"), "/".join(str(x) for x in sorted(reps))),
        "",
        "Messages per second, 1 writer and 1 reader process:",
        "",
    ] + table(res, 1, 1, SIZES) + [
        "",
        "Messages per second, %d writers and %d readers, %d bytes:" % CONTENTION,
        "",
    ] + table(res, CONTENTION[0], CONTENTION[1], [CONTENTION[2]]) + [
        "",
        "MB/s (10^6 bytes of payload), 1 writer and 1 reader:",
        "",
    ] + mb_table(res, 1, 1, SIZES) + [
        "",
        "Queues side by side, %d bytes: messages per second of all queues together, each queue "
        "(a named rustqueue queue in packet semantics, or a packet pipe) with one writer and one "
        "reader that both run on the queue's own CPU; the ratio is the median of each repetition's "
        "own (its runs with one queue and with %d follow each other):" % (QUEUE_SIZE, QUEUES),
        "",
    ] + queue_table(queues) + [
        "",
        "Many messages per call, 1 writer and 1 reader: messages per second, and in bold "
        "rustqueue-records' divided by the transport's. rustqueue-records is a named queue in "
        "records semantics (one read() or write() moves up to a batch of framed messages); "
        "seqpacket-mmsg uses sendmmsg()/recvmmsg(MSG_WAITFORONE); pipe-uring and rustqueue-uring "
        "submit a batch of IORING_OP_WRITE or IORING_OP_READ (one message each) per "
        "io_uring_submit_and_wait() on a packet pipe and a packet queue; floor writes a batch's bytes "
        "to /dev/null and reads them from /dev/zero in one call each. Queues and pipes hold "
        "max(16, 2 x batch) messages:",
        "",
    ] + batch_table(batch) + [
        "",
        "Kernel memory per queued 64-byte message (slab, /proc/meminfo, %d messages queued):"
        % memory["rustqueue"]["count"],
        "",
        "| queue | slab bytes | bytes per message | beyond the payload |",
        "|---|---:|---:|---:|",
    ] + ["| %s | %s | %.1f | %.1f |" % (t, "{:,}".format(memory[t]["slab"]), memory[t]["per_msg"],
                                         memory[t]["per_msg"] - memory[t]["size"]) for t in MEMORY] + [
        "",
        "Goals, each judged on the whole range of its ratio over the repetitions (a's lowest rate "
        "over b's highest to a's highest over b's lowest): \"yes\" when all of it is on the right "
        "side of the target, \"median only\" when the ratio of the medians is but the range is not, "
        "so that one boot's spread cannot meet a goal:",
        "",
    ] + goals(res, memory, queues, batch)
    with open(out + "/table.md", "w") as f:
        f.write("\n".join(md) + "\n")
    print("\n".join(md))


if __name__ == "__main__":
    main()
