#!/usr/bin/env python3
"""Computes expected.json for the tool-manifest test vectors, independently of the Go code.

Written once from docs/tool-manifest-hashing.md: JCS (RFC 8785) per tool, sha256, and the
manifest digest as sha256 over the JCS of [{"digest":…,"name":…}] sorted by name (code point
order). Run: python3 gen_expected.py > expected.json
"""
import decimal, glob, hashlib, json, math, os, sys

def es6_number(x: float) -> str:
    if math.isnan(x) or math.isinf(x):
        raise ValueError("not finite")
    if x == 0:
        return "0"
    sign = "-" if x < 0 else ""
    d = decimal.Decimal(repr(abs(x)))  # shortest round-trip digits
    t = d.as_tuple()
    digits = "".join(map(str, t.digits)).rstrip("0") or "0"
    # value = 0.digits * 10**n
    n = len(t.digits) + t.exponent
    k = len(digits)
    if k <= n <= 21:
        s = digits + "0" * (n - k)
    elif 0 < n <= 21:
        s = digits[:n] + "." + digits[n:]
    elif -6 < n <= 0:
        s = "0." + "0" * (-n) + digits
    else:
        e = n - 1
        es = ("+" if e >= 0 else "-") + str(abs(e))
        s = digits[0] + ("." + digits[1:] if k > 1 else "") + "e" + es
    return sign + s

def jcs_string(s: str) -> str:
    out = ['"']
    for ch in s:
        c = ord(ch)
        if ch == '"': out.append('\\"')
        elif ch == '\\': out.append('\\\\')
        elif ch == '\b': out.append('\\b')
        elif ch == '\f': out.append('\\f')
        elif ch == '\n': out.append('\\n')
        elif ch == '\r': out.append('\\r')
        elif ch == '\t': out.append('\\t')
        elif c < 0x20: out.append('\\u%04x' % c)
        else: out.append(ch)
    out.append('"')
    return "".join(out)

def jcs(v) -> str:
    if v is None: return "null"
    if v is True: return "true"
    if v is False: return "false"
    if isinstance(v, (int, float)): return es6_number(float(v))
    if isinstance(v, str): return jcs_string(v)
    if isinstance(v, list): return "[" + ",".join(jcs(e) for e in v) + "]"
    if isinstance(v, dict):
        keys = sorted(v.keys(), key=lambda k: k.encode("utf-16-be"))
        return "{" + ",".join(jcs_string(k) + ":" + jcs(v[k]) for k in keys) + "}"
    raise TypeError(type(v))

def sha(s: str) -> str:
    return "sha256:" + hashlib.sha256(s.encode("utf-8")).hexdigest()

def main():
    here = os.path.dirname(os.path.abspath(__file__))
    out = {}
    for path in sorted(glob.glob(os.path.join(here, "*.json"))):
        name = os.path.basename(path)
        if name == "expected.json":
            continue
        with open(path, "rb") as f:
            doc = json.loads(f.read().decode("utf-8"), parse_float=float, parse_int=int)
        tools = [{"name": t["name"], "digest": sha(jcs(t))} for t in doc["tools"]]
        tools.sort(key=lambda t: t["name"])
        listing = [{"digest": t["digest"], "name": t["name"]} for t in tools]
        out[name] = {"manifestDigest": sha(jcs(listing)), "tools": tools}
    json.dump(out, sys.stdout, indent=2, ensure_ascii=False, sort_keys=True)
    sys.stdout.write("\n")

main()
