#!/usr/bin/python3
"""tests/iiod/fake_iiod.py — a stand-in for iiod, the IIO network daemon, serving made-up devices
over the text protocol that libiio 0.24's network backend (the `ip:` URIs) speaks, so that
vibewatch's iio: source is tested through the real libiio client with no hardware.

Standard library only. One thread per connection; libiio opens one connection for the context
(attributes, context XML) and one more per streaming buffer.

Protocol subset (one command per line, "\r\n" ended; replies are "<integer>\n", negative = -errno):
  VERSION                                  -> "0.24.<7-char tag>\n"
  PRINT                                    -> length, then the context XML and "\n"
  ZPRINT                                   -> -EINVAL (no zstd here; libiio falls back to PRINT)
  TIMEOUT ms | SET dev BUFFERS_COUNT n | SETTRIG dev [trig]  -> 0
  GETTRIG dev                              -> 0 (no trigger)
  READ dev [INPUT|OUTPUT chan | DEBUG | BUFFER] attr        -> length, then the value and "\n"
  WRITE dev [INPUT|OUTPUT chan | DEBUG | BUFFER] attr len   (then len bytes) -> bytes taken
  OPEN dev samples mask [CYCLIC]           -> 0; the mask is hex, most significant 32-bit word
                                              first, bit i = the device's i-th channel in scan
                                              index order
  READBUF dev bytes                        -> bytes, then the mask (8 hex digits per word) and
                                              "\n", then the samples: enabled scan elements in
                                              index order, each aligned to its own size
  CLOSE dev -> 0;  EXIT -> the connection closes;  empty lines are ignored
Learned from the public libiio sources (iiod-client.c, network.c, the context XML DTD) and
from what libiio 0.24's client sends; written from scratch.

Devices (ids iio:device0..3):
  adxl355   accel_x/y/z (16-bit le, or the real part's be:s20/32>>12 with --bits 20), timestamp,
            temp (raw/scale/offset: 25.00 °C), sampling_frequency 4000/2000/…/125 Hz; any other
            rate is refused with -EINVAL (the rate stays)
  ad7768-4  voltage0..3, be:s24/32>>8 in mV, sampling_frequency up to 256 kHz; another rate is
            rounded to the nearest one it has
  tmp117    temp with an `input` attribute (milli-°C, --temp-c)
  adc-fixed voltage0, le:u16/16>>0 with offset -32768 (or --fixed-format/--fixed-offset), a fixed
            8 kHz and no sampling_frequency; its tone is --tone adc-fixed=…, and a tone beyond the
            range rails at the format's lowest/highest code, as a saturated converter does

Samples are tones computed from the sample index (continuous across reads), paced by the
monotonic clock from OPEN; --clock-ppm makes the device's sample clock run that many parts per
million fast (+) or slow (-) against it, as a real converter's crystal does (the rate it reports
stays nominal). Like a kernel buffer, at most BUFFERS_COUNT buffers (default 4) wait for a slow
reader; older samples are dropped ("DROP" in the log). --fail-readbuf N answers the first N
READBUFs of every stream with -EIO ("FAIL" in the log): a device that accepts the connection and
then fails.

Usage: fake_iiod.py [--port N (0: any; see --port-file)] [--port-file F] [--rate HZ]
         [--bits 16|20] [--tone CHAN=FREQ_HZ:AMPLITUDE[:DC]]... [--temp-c C] [--log F]
         [--stall-after N] [--skip N:COUNT] [--late N:SECONDS] [--adc-rates HZ,HZ,...]
         [--clock-ppm PPM] [--fail-readbuf N] [--fixed-format FMT] [--fixed-offset RAW]
Amplitudes are in g for accel channels and mV for voltage channels.
"""
import argparse
import fractions
import math
import os
import re
import socket
import socketserver
import struct
import sys
import threading
import time

G = 9.80665
VERSION_TAG = "fakeiio"  # 7 characters, as libiio expects of a git tag


class Channel:
    def __init__(self, cid, index=-1, fmt=None, attrs=None):
        self.id = cid
        self.index = index        # scan index, -1: not a scan element
        self.fmt = fmt            # (endian 'le'/'be', signed, bits, storage_bits, shift)
        self.attrs = dict(attrs or {})
        self.tone = None          # (freq_hz, amplitude, dc) in physical units

    def scale(self):
        return float(self.attrs.get("scale", "1"))

    def offset(self):
        return float(self.attrs.get("offset", "0"))

    def format_string(self):
        e, signed, bits, storage, shift = self.fmt
        return "%s:%s%d/%d>>%d" % (e, "s" if signed else "u", bits, storage, shift)


class Device:
    def __init__(self, did, name, channels, attrs, rates=None, rate_policy="reject", fixed_rate=None):
        self.id = did
        self.name = name
        # scan elements first, by index: libiio numbers channels (and mask bits) in this order
        self.channels = sorted([c for c in channels if c.index >= 0], key=lambda c: c.index) + \
            [c for c in channels if c.index < 0]
        self.attrs = dict(attrs)
        self.rates = rates or []
        self.rate_policy = rate_policy
        self.fixed_rate = fixed_rate
        self.buffers_count = 4

    def rate(self):
        if "sampling_frequency" in self.attrs:
            return float(self.attrs["sampling_frequency"])
        return self.fixed_rate

    def channel(self, cid):
        for c in self.channels:
            if c.id == cid:
                return c
        return None


def fmt_num(v):
    s = repr(float(v))
    return s[:-2] if s.endswith(".0") else s


def build_devices(args):
    if args.bits == 20:
        afmt, ascale = ("be", True, 20, 32, 12), 3.9e-6 * G            # ±2 g part: 3.9 µg/LSB
    else:
        afmt, ascale = ("le", True, 16, 16, 0), 4.0 * G / 32768.0      # ±4 g in 16 bits
    accel = []
    for i, (axis, off) in enumerate((("x", 0), ("y", -50), ("z", 25))):
        c = Channel("accel_" + axis, i, afmt, {"scale": fmt_num(ascale), "offset": str(off)})
        accel.append(c)
    ts = Channel("timestamp", 3, ("le", True, 64, 64, 0), {})
    temp = Channel("temp", -1, None, {"raw": "1885", "scale": "-110.497238", "offset": "-2111.25"})
    adxl_rates = [4000, 2000, 1000, 500, 250, 125]
    adxl = Device("iio:device0", "adxl355", accel + [ts, temp],
                  {"sampling_frequency": fmt_num(args.rate),
                   "sampling_frequency_available": " ".join(fmt_num(r) for r in adxl_rates)},
                  rates=adxl_rates, rate_policy="reject")

    vscale = 4096.0 / (1 << 23)  # mV per LSB, ±4.096 V in 24 bits
    volts = [Channel("voltage%d" % i, i, ("be", True, 24, 32, 8),
                     {"scale": fmt_num(vscale), "offset": "0"}) for i in range(4)]
    adc_rates = args.adc_rates or [8000, 16000, 25600, 32000, 51200, 64000, 128000, 256000]
    adc = Device("iio:device1", "ad7768-4", volts,
                 {"sampling_frequency": "51200",
                  "sampling_frequency_available": " ".join(fmt_num(r) for r in adc_rates)},
                 rates=adc_rates, rate_policy="nearest")

    tmp = Channel("temp", -1, None, {"input": str(int(round(args.temp_c * 1000)))})
    tmp117 = Device("iio:device2", "tmp117", [tmp], {})

    fixed = Channel("voltage0", 0, args.fixed_format, {"scale": "0.125", "offset": fmt_num(args.fixed_offset)})
    adcf = Device("iio:device3", "adc-fixed", [fixed], {}, fixed_rate=8000.0)

    devs = [adxl, adc, tmp117, adcf]
    tones = {"accel_x": (80.0, 0.5, 0.0), "accel_y": (160.0, 0.25, 0.0), "accel_z": (320.0, 0.5, 1.0),
             "voltage0": (1000.0, 100.0, 0.0), "voltage1": (2000.0, 200.0, 0.0),
             "voltage2": (3000.0, 300.0, 0.0), "voltage3": (5000.0, 400.0, 0.0)}
    for spec in args.tone:
        try:
            name, rest = spec.split("=", 1)
            parts = [float(p) for p in rest.split(":")]
            if len(parts) == 2:
                parts.append(0.0)
            if len(parts) != 3:
                raise ValueError
            tones[name] = tuple(parts)
        except ValueError:
            sys.exit("fake_iiod: --tone %s: expected CHAN=FREQ_HZ:AMPLITUDE[:DC]" % spec)
    for d in devs:
        for c in d.channels:
            if c.index >= 0 and c.id != "timestamp":
                c.tone = tones.get(c.id, (0.0, 0.0, 0.0))
    adcf.channels[0].tone = tones.get("adc-fixed", (440.0, 500.0, 0.0))
    return devs


# libiio validates the context description against its document type, so it travels inline.
CONTEXT_DTD = "".join((
    "<!DOCTYPE context [",
    "<!ELEMENT context (device | context-attribute)*>",
    "<!ELEMENT context-attribute EMPTY>",
    "<!ELEMENT device (channel | attribute | debug-attribute | buffer-attribute)*>",
    "<!ELEMENT channel (scan-element?, attribute*)>",
    "<!ELEMENT attribute EMPTY>",
    "<!ELEMENT scan-element EMPTY>",
    "<!ELEMENT debug-attribute EMPTY>",
    "<!ELEMENT buffer-attribute EMPTY>",
    "<!ATTLIST context name CDATA #REQUIRED version-major CDATA #REQUIRED",
    " version-minor CDATA #REQUIRED version-git CDATA #REQUIRED description CDATA #IMPLIED>",
    "<!ATTLIST context-attribute name CDATA #REQUIRED value CDATA #REQUIRED>",
    "<!ATTLIST device id CDATA #REQUIRED name CDATA #IMPLIED label CDATA #IMPLIED>",
    "<!ATTLIST channel id CDATA #REQUIRED type (input|output) #REQUIRED name CDATA #IMPLIED>",
    "<!ATTLIST scan-element index CDATA #REQUIRED format CDATA #REQUIRED scale CDATA #IMPLIED>",
    "<!ATTLIST attribute name CDATA #REQUIRED filename CDATA #IMPLIED>",
    "<!ATTLIST debug-attribute name CDATA #REQUIRED>",
    "<!ATTLIST buffer-attribute name CDATA #REQUIRED>",
    "]>"))


def context_xml(devs):
    def esc(s):
        return (s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
                .replace('"', "&quot;"))
    out = ['<?xml version="1.0" encoding="utf-8"?>', CONTEXT_DTD,
           '<context name="network" version-major="0" version-minor="24" version-git="%s" '
           'description="vibewatch fake iiod">' % VERSION_TAG,
           '<context-attribute name="hw_model" value="vibewatch fake iiod" />']
    for d in devs:
        out.append('<device id="%s" name="%s">' % (esc(d.id), esc(d.name)))
        for c in d.channels:
            out.append('<channel id="%s" type="input">' % esc(c.id))
            if c.index >= 0:
                # the scale also travels here; libiio keeps it in the channel's data format
                sc = ' scale="%s"' % esc(c.attrs["scale"]) if "scale" in c.attrs else ""
                out.append('<scan-element index="%d" format="%s"%s />'
                           % (c.index, esc(c.format_string()), sc))
            kind = c.id.rstrip("0123456789").split("_")[0]
            for a in c.attrs:
                shared = a in ("scale",) and kind == "accel"
                fname = "in_%s_%s" % (kind if shared else c.id, a)
                out.append('<attribute name="%s" filename="%s" />' % (esc(a), esc(fname)))
            if c.index >= 0 and "raw" not in c.attrs:
                out.append('<attribute name="raw" filename="in_%s_raw" />' % esc(c.id))
            out.append('</channel>')
        for a in d.attrs:
            out.append('<attribute name="%s" />' % esc(a))
        out.append('</device>')
    out.append('</context>')
    return "".join(out)


class Stream:
    """One OPEN buffer: the enabled channels' layout and a precomputed period of samples."""

    def __init__(self, dev, samples, mask_words, log, skip=None, late=None, clock_ppm=0.0, fail_reads=0):
        self.dev = dev
        self.fail_reads = fail_reads  # READBUFs still to fail
        self.skip = skip          # (after N reads, lose COUNT samples) like a driver's overflow
        self.late = late          # (after N reads, deliver one buffer SECONDS late) like a slow network
        self.reads = 0
        self.samples = samples
        self.mask_words = mask_words
        self.rate = dev.rate()
        self.clock = self.rate * (1 + clock_ppm * 1e-6)  # samples per second of the monotonic clock
        bits = 0
        for w in mask_words:
            bits = (bits << 32) | w
        self.enabled = [c for i, c in enumerate(dev.channels) if c.index >= 0 and (bits >> i) & 1]
        if not self.enabled:
            raise ValueError("no channel enabled")
        self.layout = []
        off = 0
        for c in self.enabled:
            size = c.fmt[3] // 8
            if off % size:
                off += size - off % size
            self.layout.append((c, off, size))
            off += size
        self.sample_size = off
        self.has_timestamp = any(c.id == "timestamp" for c in self.enabled)
        self.period = self._period()
        self.table = self._table(self.period)
        self.table2 = self.table + self.table
        self.t_open = time.monotonic()
        self.t_open_wall_ns = time.time_ns()
        self.next_index = 0
        self.log = log

    def _period(self):
        """Samples after which every enabled tone repeats exactly (so a table can be reused)."""
        period = 1
        for c in self.enabled:
            if c.tone and c.tone[0]:
                q = (fractions.Fraction(repr(c.tone[0])) / fractions.Fraction(repr(self.rate))).denominator
                period = period * q // math.gcd(period, q)
        if period > 8 * int(self.rate) + 8:
            raise ValueError("tones do not repeat within 8 s at %g Hz: pick frequencies that are "
                             "multiples of 0.125 Hz" % self.rate)
        # a longer table means fewer copies a read (but a slower OPEN): up to a buffer, ≤ 64 k samples
        reps = max(1, -(-min(max(self.samples, 1024), 65536) // period))
        return period * reps

    def _raw(self, c, k):
        f, amp, dc = c.tone
        phys = dc + amp * math.sin(2 * math.pi * f * k / self.rate)
        if c.id.startswith("accel"):
            phys *= G  # the scale is in m/s² per LSB
        raw = int(round(phys / c.scale() - c.offset()))
        e, signed, bits, storage, shift = c.fmt
        lo, hi = (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if signed else (0, (1 << bits) - 1)
        return max(lo, min(hi, raw))

    def _pack(self, c, raw):
        e, signed, bits, storage, shift = c.fmt
        word = ((raw & ((1 << bits) - 1)) << shift)
        word |= (0x5A5A5A5A & ((1 << shift) - 1))  # junk below the data: the client must shift it out
        return word.to_bytes(storage // 8, "little" if e == "le" else "big")

    def _table(self, n):
        buf = bytearray(n * self.sample_size)
        for k in range(n):
            base = k * self.sample_size
            for c, off, size in self.layout:
                if c.id == "timestamp":
                    continue
                buf[base + off:base + off + size] = self._pack(c, self._raw(c, k))
        return bytes(buf)

    def read(self, nbytes, stall):
        n = nbytes // self.sample_size
        if n <= 0 or n * self.sample_size != nbytes:
            return None
        self.reads += 1
        if self.skip and self.reads == self.skip[0] + 1:
            self.next_index += self.skip[1]
            self.log("SKIP %s %d samples" % (self.dev.id, self.skip[1]))
        backlog = self.dev.buffers_count * max(self.samples, n)
        now_index = int((time.monotonic() - self.t_open) * self.clock)
        if now_index - self.next_index > backlog:
            dropped = now_index - backlog - self.next_index
            self.next_index += dropped
            self.log("DROP %s %d samples (reader too slow)" % (self.dev.id, dropped))
        due = self.t_open + (self.next_index + n) / self.clock
        if self.late and self.reads == self.late[0] + 1:
            due += self.late[1]
            self.log("LATE %s %g s" % (self.dev.id, self.late[1]))
        while True:
            wait = due - time.monotonic()
            if wait <= 0 and not stall():
                break
            time.sleep(min(max(wait, 0.05), 0.5))
        k0 = self.next_index
        self.next_index += n
        out = bytearray()
        k, left = k0, n
        while left:
            pos = k % self.period
            take = min(left, self.period)
            out += self.table2[pos * self.sample_size:(pos + take) * self.sample_size]
            k += take
            left -= take
        if self.has_timestamp:
            for c, off, size in self.layout:
                if c.id == "timestamp":
                    for i in range(n):
                        t = self.t_open_wall_ns + int((k0 + i) * 1e9 / self.rate)
                        out[i * self.sample_size + off:i * self.sample_size + off + 8] = \
                            struct.pack("<q", t)
        return bytes(out)


class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True

    def __init__(self, addr, args):
        self.args = args
        self.devs = build_devices(args)
        self.lock = threading.Lock()
        self.buffers_served = 0
        self.logf = open(args.log, "a", buffering=1) if args.log else None
        super().__init__(addr, Handler)

    def log(self, line):
        if self.logf:
            with self.lock:
                self.logf.write(line + "\n")

    def find(self, key):
        for d in self.devs:
            if key in (d.id, d.name):
                return d
        return None

    def stalled(self):
        return self.args.stall_after is not None and self.buffers_served >= self.args.stall_after


class Handler(socketserver.StreamRequestHandler):
    def setup(self):
        super().setup()
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.streams = {}

    def reply(self, data):
        self.wfile.write(data)
        self.wfile.flush()

    def code(self, n):
        self.reply(b"%d\n" % n)

    def handle(self):
        srv = self.server
        while True:
            line = self.rfile.readline(4096)
            if not line:
                return
            text = line.decode("ascii", "replace").strip()
            if not text:
                continue
            tok = text.split()
            cmd = tok[0].upper()
            if cmd != "READBUF":
                srv.log(text)
            try:
                if self.dispatch(srv, cmd, tok) == "exit":
                    return
            except (BrokenPipeError, ConnectionResetError):
                return

    def attr_target(self, srv, tok):
        """READ/WRITE's "dev [INPUT|OUTPUT chan | DEBUG | BUFFER] attr": (attrs dict, attr, rest)."""
        dev = srv.find(tok[1]) if len(tok) > 2 else None
        if not dev:
            return None, None, None, None
        if tok[2] in ("INPUT", "OUTPUT"):
            if len(tok) < 5:
                return dev, None, None, None
            ch = dev.channel(tok[3])
            return dev, (ch.attrs if ch else None), tok[4], tok[5:]
        if tok[2] in ("DEBUG", "BUFFER"):
            return dev, {}, tok[3] if len(tok) > 3 else None, tok[4:]
        return dev, dev.attrs, tok[2], tok[3:]

    def dispatch(self, srv, cmd, tok):
        if cmd == "EXIT":
            return "exit"
        if cmd == "VERSION":
            self.reply(b"0.24.%s\n" % VERSION_TAG.encode())
        elif cmd == "PRINT":
            xml = context_xml(srv.devs).encode()
            self.reply(b"%d\n" % len(xml) + xml + b"\n")
        elif cmd in ("TIMEOUT", "SETTRIG", "GETTRIG"):
            self.code(0)
        elif cmd == "SET" and len(tok) == 4 and tok[2].upper() == "BUFFERS_COUNT":
            dev = srv.find(tok[1])
            if not dev or not tok[3].isdigit() or int(tok[3]) < 1:
                self.code(-22)
            else:
                dev.buffers_count = int(tok[3])
                self.code(0)
        elif cmd == "READ":
            dev, attrs, name, _ = self.attr_target(srv, tok)
            if dev is None or attrs is None or name is None:
                self.code(-19 if dev is None else -2)
                return None
            if name == "raw" and len(tok) >= 5 and tok[2] == "INPUT":
                ch = dev.channel(tok[3])
                if ch and ch.tone:
                    rate = dev.rate() or 1.0
                    k = int(time.monotonic() * rate)
                    s = Stream.__new__(Stream)
                    s.rate = rate
                    attrs = dict(attrs, raw=str(Stream._raw(s, ch, k)))
            if name not in attrs:
                self.code(-2)
                return None
            val = attrs[name].encode()
            self.reply(b"%d\n" % len(val) + val + b"\n")
        elif cmd == "WRITE":
            dev, attrs, name, rest = self.attr_target(srv, tok)
            if not rest or not rest[-1].isdigit():
                self.code(-22)
                return None
            n = int(rest[-1])
            if n > 65536:
                self.code(-22)
                return "exit"
            payload = self.rfile.read(n)
            value = payload.decode("ascii", "replace").strip("\0 \n\r\t")
            srv.log("WRITE-VALUE %s %s %s" % (tok[1], name, value))
            if dev is None or attrs is None or name not in attrs:
                self.code(-2 if dev else -19)
            elif attrs is dev.attrs and name == "sampling_frequency":
                self.code(self.set_rate(srv, dev, value, n))
            elif name in ("scale", "offset", "input", "sampling_frequency_available"):
                self.code(-13)  # read-only here
            else:
                attrs[name] = value
                self.code(n)
        elif cmd == "OPEN" and len(tok) >= 4:
            dev = srv.find(tok[1])
            mask = tok[3]
            if not dev or not tok[2].isdigit() or len(mask) % 8 or not all(
                    ch in "0123456789abcdefABCDEF" for ch in mask):
                self.code(-22)
                return None
            words = [int(mask[i:i + 8], 16) for i in range(0, len(mask), 8)]
            try:
                self.streams[dev.id] = (Stream(dev, int(tok[2]), words, srv.log, srv.args.skip, srv.args.late,
                                               srv.args.clock_ppm, srv.args.fail_readbuf), mask)
            except ValueError as e:
                srv.log("OPEN failed: %s" % e)
                self.code(-22)
                return None
            self.code(0)
        elif cmd == "READBUF" and len(tok) == 3:
            dev = srv.find(tok[1])
            entry = self.streams.get(dev.id) if dev else None
            if not entry or not tok[2].isdigit():
                self.code(-9)  # EBADF: not open
                return None
            stream, mask = entry
            if stream.fail_reads > 0:
                stream.fail_reads -= 1
                srv.log("FAIL %s READBUF" % dev.id)
                self.code(-5)  # EIO
                return None
            data = stream.read(int(tok[2]), srv.stalled)
            if data is None:
                self.code(-22)
                return None
            with srv.lock:
                srv.buffers_served += 1
            self.reply(b"%d\n" % len(data) + mask.lower().encode() + b"\n" + data)
        elif cmd == "CLOSE" and len(tok) == 2:
            dev = srv.find(tok[1])
            if dev:
                self.streams.pop(dev.id, None)
            self.code(0 if dev else -19)
        else:
            self.code(-22)
        return None

    def set_rate(self, srv, dev, value, n):
        try:
            want = float(value)
        except ValueError:
            return -22
        if not dev.rates:
            return -22
        match = [r for r in dev.rates if abs(r - want) <= 1e-9 * max(r, 1)]
        if match:
            dev.attrs["sampling_frequency"] = fmt_num(match[0])
        elif dev.rate_policy == "nearest" and want > 0:
            dev.attrs["sampling_frequency"] = fmt_num(min(dev.rates, key=lambda r: abs(r - want)))
        else:
            return -22
        return n


def main():
    ap = argparse.ArgumentParser(description="a test stand-in for iiod (see the module comment)")
    ap.add_argument("--port", type=int, default=30431)
    ap.add_argument("--port-file", help="write the port listened on here (useful with --port 0)")
    ap.add_argument("--rate", type=float, default=4000.0, help="adxl355's initial sampling_frequency")
    ap.add_argument("--bits", type=int, choices=(16, 20), default=16)
    ap.add_argument("--tone", action="append", default=[], metavar="CHAN=FREQ:AMP[:DC]")
    ap.add_argument("--temp-c", type=float, default=41.25, help="tmp117's temperature")
    ap.add_argument("--log", help="append every command received (READBUF excepted) and every DROP, "
                    "SKIP or LATE to this file")
    ap.add_argument("--stall-after", type=int, help="stop answering READBUF after N buffers")
    ap.add_argument("--skip", metavar="N:COUNT", help="after N buffers of a stream, lose COUNT samples")
    ap.add_argument("--late", metavar="N:SECONDS", help="after N buffers of a stream, deliver one late "
                    "(no samples lost)")
    ap.add_argument("--adc-rates", metavar="HZ,HZ,...", help="ad7768-4's sampling_frequency_available "
                    "(benchmarks: beyond the real part's 256 kHz)")
    ap.add_argument("--clock-ppm", type=float, default=0.0, help="the devices' sample clocks run this many ppm "
                    "fast (+) or slow (-) against the host's clock")
    ap.add_argument("--fail-readbuf", type=int, default=0, metavar="N", help="fail the first N READBUFs of every "
                    "stream with -EIO")
    ap.add_argument("--fixed-format", default="le:u16/16>>0", metavar="FMT", help="adc-fixed's sample format, "
                    "as IIO writes it (le:s10/16>>0, be:u12/16>>4, ...)")
    ap.add_argument("--fixed-offset", type=float, default=-32768.0, metavar="RAW", help="adc-fixed's offset")
    args = ap.parse_args()
    if not -500000 <= args.clock_ppm <= 500000 or args.fail_readbuf < 0:
        sys.exit("fake_iiod: --clock-ppm must be within ±500000 and --fail-readbuf not negative")
    m = re.fullmatch(r"(le|be):([su])(\d+)/(\d+)>>(\d+)", args.fixed_format)
    if not m or int(m.group(4)) not in (8, 16, 32) or not 1 <= int(m.group(3)) <= int(m.group(4)) - int(m.group(5)):
        sys.exit("fake_iiod: --fixed-format %s: expected le|be:s|uBITS/STORAGE>>SHIFT with storage 8, 16 or 32"
                 % args.fixed_format)
    args.fixed_format = (m.group(1), m.group(2) == "s", int(m.group(3)), int(m.group(4)), int(m.group(5)))
    if args.late:
        try:
            n, secs = args.late.split(":")
            args.late = (int(n), float(secs))
            if args.late[0] < 0 or not 0 <= args.late[1] <= 60:
                raise ValueError
        except ValueError:
            sys.exit("fake_iiod: --late %s: expected N:SECONDS" % args.late)
    if args.adc_rates:
        try:
            args.adc_rates = [float(v) for v in args.adc_rates.split(",")]
            if min(args.adc_rates) <= 0:
                raise ValueError
        except ValueError:
            sys.exit("fake_iiod: --adc-rates %s: expected positive rates in Hz, comma-separated" % args.adc_rates)
    if args.skip:
        try:
            args.skip = tuple(int(v) for v in args.skip.split(":"))
            if len(args.skip) != 2 or min(args.skip) < 0:
                raise ValueError
        except ValueError:
            sys.exit("fake_iiod: --skip %s: expected N:COUNT" % args.skip)
    srv = Server(("127.0.0.1", args.port), args)
    port = srv.server_address[1]
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % port)
        os.rename(tmp, args.port_file)
    srv.log("LISTEN %d" % port)
    try:
        srv.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
