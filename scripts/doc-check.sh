#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# Check the documentation and device-tree sources; prints TAP, one line per
# file and check, and exits non-zero if any check fails.
#
#   rst   every Documentation/**/*.rst parses with docutils without warnings
#         (Sphinx/kernel roles and directives registered as generic ones),
#         every :ref: target exists, every page is in Documentation/index.rst
#   yaml  every device-tree binding loads (PyYAML), has the usual top-level
#         keys and an $id matching its path, and its examples compile (dtc)
#   dtso  every dts-overlays/*.dtso compiles with "dtc -@" without warnings
#
# Needs the Debian packages python3, python3-yaml, python3-docutils and
# device-tree-compiler; the docutils and dtc checks are skipped (with a
# message) when those are missing.  Usage: scripts/doc-check.sh [-v]
set -eu
TOP=$(cd "$(dirname "$0")/.." && pwd)
cd "$TOP"

PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
DTC=$(command -v dtc || true)
export DTC

exec "$PY" - "$@" <<'EOF'
import fnmatch
import glob
import io
import os
import re
import subprocess
import sys
import tempfile

verbose = '-v' in sys.argv[1:]
dtc = os.environ.get('DTC') or None
results = []


def report(ok, what, why='', skip=None):
    results.append((ok, what, why, skip))


def run_dtc(src, name):
    """Compile DTS text; any warning fails.  Returns (ok, messages)."""
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, 'in.dts')
        with open(path, 'w') as f:
            f.write(src)
        p = subprocess.run([dtc, '-@', '-I', 'dts', '-O', 'dtb',
                            '-o', os.path.join(d, 'out.dtb'), path],
                           capture_output=True, text=True)
        msg = (p.stderr or '').strip().replace(path, name)
        msg = msg.replace(os.path.join(d, 'out.dtb'), name)
    return p.returncode == 0 and not msg, msg


# ---- reST ---------------------------------------------------------------
rst_files = sorted(glob.glob('Documentation/**/*.rst', recursive=True))

try:
    import docutils
    import docutils.core
    from docutils.parsers.rst import Directive, directives, roles
    have_docutils = True
except ImportError:
    have_docutils = False

if have_docutils:
    class AnyOptions(dict):
        def __missing__(self, key):
            return directives.unchanged

    class Ignored(Directive):
        """Sphinx/kernel directive: accept anything, produce nothing."""
        has_content = True
        required_arguments = 0
        optional_arguments = 100
        final_argument_whitespace = True
        option_spec = AnyOptions()

        def run(self):
            return []

    for name in ('toctree', 'kernel-doc', 'kernel-feat', 'kernel-abi',
                 'c:function', 'c:macro', 'c:type', 'c:struct', 'c:enum',
                 'c:member', 'c:var', 'c:union', 'only', 'highlight',
                 'tabularcolumns', 'literalinclude', 'flat-table',
                 'index', 'glossary', 'seealso', 'versionadded',
                 'versionchanged', 'deprecated', 'code-block',
                 'sourcecode'):
        directives.register_directive(name, Ignored)
    for name in ('ref', 'doc', 'c:func', 'c:type', 'c:macro', 'c:member',
                 'c:data', 'c:struct', 'c:enum', 'c:union', 'c:expr',
                 'manpage', 'kbd', 'file', 'command', 'option', 'envvar',
                 'program', 'samp', 'term', 'abbr', 'menuselection',
                 'numref', 'download', 'ref-'):
        roles.register_generic_role(name, docutils.nodes.literal)

labels = {}
refs = []
label_re = re.compile(r'^\.\.\s+_([^:`][^:]*):\s*$')
ref_re = re.compile(r':ref:`([^`]+)`')
for path in rst_files:
    with open(path, encoding='utf-8') as f:
        text = f.read()
    for n, line in enumerate(text.splitlines(), 1):
        m = label_re.match(line)
        if m:
            labels.setdefault(m.group(1).strip().lower(), path)
        for m in ref_re.finditer(line):
            target = m.group(1)
            t = re.search(r'<([^>]+)>\s*$', target)
            refs.append((path, n, (t.group(1) if t else target).strip()))

if not have_docutils:
    for path in rst_files:
        report(True, 'rst ' + path, skip='python3-docutils not installed')
else:
    for path in rst_files:
        with open(path, encoding='utf-8') as f:
            text = f.read()
        warn = io.StringIO()
        try:
            docutils.core.publish_doctree(
                text, source_path=path,
                settings_overrides={'report_level': 2, 'halt_level': 5,
                                    'warning_stream': warn,
                                    'file_insertion_enabled': False,
                                    'raw_enabled': False})
        except Exception as e:  # a parser crash is a failure too
            warn.write('%s: exception %r\n' % (path, e))
        msgs = [l for l in warn.getvalue().splitlines()
                if re.search(r'\((WARNING|ERROR|SEVERE)/\d\)|exception', l)]
        bad = ['%s:%d: unknown :ref: target "%s"' % (p, n, t)
               for p, n, t in refs if p == path and t.lower() not in labels]
        report(not msgs and not bad, 'rst ' + path,
               '\n'.join(msgs + bad))

# Every page must be reached from Documentation/index.rst.
index = 'Documentation/index.rst'
if os.path.exists(index):
    with open(index, encoding='utf-8') as f:
        lines = f.read().splitlines()
    pats, intree = [], False
    for line in lines:
        if re.match(r'^\.\.\s+toctree::', line):
            intree = True
            continue
        if intree:
            if line and not line[0].isspace():
                intree = False
                continue
            s = line.strip()
            if s and not s.startswith(':'):
                pats.append(s)
    docs = [p[len('Documentation/'):-len('.rst')] for p in rst_files
            if p != index]
    orphans = [d for d in docs
               if not any(fnmatch.fnmatchcase(d, pat) for pat in pats)]
    report(not orphans, 'toctree ' + index,
           '\n'.join('not in any toctree: Documentation/%s.rst' % d
                     for d in orphans))
else:
    report(False, 'toctree ' + index, 'missing')

# ---- device-tree bindings -------------------------------------------------
try:
    import yaml
except ImportError:
    yaml = None

for path in sorted(glob.glob('Documentation/devicetree/bindings/**/*.yaml',
                             recursive=True)):
    if yaml is None:
        report(False, 'yaml ' + path, 'python3-yaml not installed')
        continue
    why = []
    try:
        with open(path, encoding='utf-8') as f:
            doc = yaml.safe_load(f)
    except yaml.YAMLError as e:
        report(False, 'yaml ' + path, str(e))
        continue
    rel = path[len('Documentation/devicetree/bindings/'):]
    for key in ('$id', '$schema', 'title', 'maintainers', 'properties',
                'required', 'examples'):
        if key not in doc:
            why.append('missing top-level key ' + key)
    if doc.get('$id') != 'http://devicetree.org/schemas/%s#' % rel:
        why.append('$id does not match the path: %s' % doc.get('$id'))
    if 'compatible' not in doc.get('properties', {}):
        why.append('no compatible property')
    if not ('additionalProperties' in doc or 'unevaluatedProperties' in doc):
        why.append('neither additionalProperties nor unevaluatedProperties')
    for prop in doc.get('required', []):
        if prop not in doc.get('properties', {}):
            why.append('required property %s is not described' % prop)
    report(not why, 'yaml ' + path, '\n'.join(why))

    # Examples: compile each one as dt_binding_check would (syntax only).
    what = 'dtc-example ' + path
    if not dtc:
        report(True, what, skip='dtc not installed (device-tree-compiler)')
        continue
    msgs = []
    for i, ex in enumerate(doc.get('examples', [])):
        ok, msg = run_dtc('/dts-v1/;\n/ {\n%s\n};\n' % ex,
                          '%s[example %d]' % (path, i))
        if not ok:
            msgs.append('example %d: %s' % (i, msg or 'dtc failed'))
    report(not msgs, what, '\n'.join(msgs))

# ---- overlays --------------------------------------------------------------
for path in sorted(glob.glob('dts-overlays/*.dtso') +
                   glob.glob('dts-overlays/*.dts')):
    if not dtc:
        report(True, 'dtc ' + path,
               skip='dtc not installed (device-tree-compiler)')
        continue
    with open(path, encoding='utf-8') as f:
        ok, msg = run_dtc(f.read(), path)
    report(ok, 'dtc ' + path, msg)

# ---- TAP -------------------------------------------------------------------
print('1..%d' % len(results))
failed = 0
for n, (ok, what, why, skip) in enumerate(results, 1):
    if skip:
        print('ok %d - %s # SKIP %s' % (n, what, skip))
        continue
    print('%s %d - %s' % ('ok' if ok else 'not ok', n, what))
    if why and (not ok or verbose):
        for line in why.splitlines():
            print('#   ' + line)
    failed += not ok
print('# doc-check: %d passed, %d failed' % (len(results) - failed, failed))
sys.exit(1 if failed else 0)
EOF
