#!/usr/bin/env python3
"""Prints `_Static_assert(offsetof(T, m) == N, ...)` lines that freeze the layout of every struct in the
SDK's C headers, for tests/abi/abi_layout.c. Run it only when APPENDING entries to a table (a new
minor version): existing lines must never change, which the committed asserts enforce.

usage: print_layout.py <sdk include dir> [header ...]   (compiles a probe with cc and runs it)
"""
import os
import re
import subprocess
import sys
import tempfile

inc = sys.argv[1]
headers = sys.argv[2:] or sorted(f for f in os.listdir(os.path.join(inc, "megaswift/c")) if f.endswith(".h"))
structs = []
for h in headers:
    text = open(os.path.join(inc, "megaswift/c", h)).read()
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    for m in re.finditer(r"(?:typedef\s+)?struct\s+(msw_\w+)\s*\{(.*?)\}\s*(\w*)\s*;", text, flags=re.S):
        name, body = m.group(1), m.group(2)
        members = []
        for decl in body.split(";"):
            decl = " ".join(decl.split())
            if not decl:
                continue
            fp = re.search(r"\(\s*\*\s*(\w+)\s*\)", decl)
            if fp:
                members.append(fp.group(1))
                continue
            last = re.search(r"(\w+)\s*(\[[^\]]*\])?\s*$", decl)
            if last:
                members.append(last.group(1))
        structs.append((h, name, members))

probe = ['#include <stdio.h>', '#include <stddef.h>']
probe += ['#include <megaswift/c/%s>' % h for h in headers]
probe.append("int main(void) {")
for h, name, members in structs:
    probe.append('  printf("/* %s: %s */\\n");' % (h, name))
    probe.append('  printf("_Static_assert(sizeof(struct %s) == %%zu, \\"%s size\\");\\n", sizeof(struct %s));' % (name, name, name))
    for mem in members:
        probe.append('  printf("_Static_assert(offsetof(struct %s, %s) == %%zu, \\"%s.%s moved\\");\\n", offsetof(struct %s, %s));'
                     % (name, mem, name, mem, name, mem))
probe.append("  return 0;\n}")
with tempfile.TemporaryDirectory() as d:
    src, exe = os.path.join(d, "p.c"), os.path.join(d, "p")
    open(src, "w").write("\n".join(probe))
    subprocess.check_call(["cc", "-std=c11", "-I", inc, src, "-o", exe])
    sys.stdout.write(subprocess.check_output([exe]).decode())
