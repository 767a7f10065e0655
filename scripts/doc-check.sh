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
#   value every value a document marks with ".. checked: KEY ..." appears in
#         the block that follows the marker, with the value the code gives
#         (selftests/doc/doc_values: the real rpw_mac.c/rpw_elect.c; the
#         netlink policies parsed from driver/netlink.c; generated tables)
#   gen   every block between ".. generated: NAME (COMMAND)" and
#         ".. end generated: NAME" is what COMMAND prints: value tables and
#         quick benchmarks are regenerated and compared exactly; for slow
#         benchmarks the rows that a quick run reproduces are compared and
#         the rest only in --update mode
#   policy  the ranges in Documentation/netlink/rackpwr.rst and the spec's
#         checks match the nla_policy ranges in driver/netlink.c
#
# Needs the Debian packages python3, python3-yaml, python3-docutils,
# device-tree-compiler, make and gcc; the docutils and dtc checks are skipped
# (with a message) when those are missing.
#
#   scripts/doc-check.sh [-v]        check (a few seconds)
#   scripts/doc-check.sh --update    rerun every generator, benchmarks
#                                    included (about a minute), rewrite the
#                                    generated blocks in place, then check
set -eu
TOP=$(cd "$(dirname "$0")/.." && pwd)
cd "$TOP"

PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
DTC=$(command -v dtc || true)
export DTC

exec "$PY" - "$@" <<'EOF'
import difflib
import fnmatch
import glob
import io
import os
import re
import subprocess
import sys
import tempfile

verbose = '-v' in sys.argv[1:]
for arg in sys.argv[1:]:
    if arg not in ('-v', '--update'):
        sys.exit('usage: scripts/doc-check.sh [-v] [--update]')
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

# ---- values, generated tables, policy ranges --------------------------------
# Documentation/dev-tools/rackpwr-testing.rst, "Documentation checks", says
# how to mark a value or a table.
update = '--update' in sys.argv[1:]


def run(cmd, what):
    """Output of CMD (a list); raises RuntimeError with its stderr."""
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode:
        raise RuntimeError('%s: %s exited %d\n%s' % (
            what, ' '.join(cmd), p.returncode,
            (p.stderr or p.stdout)[-2000:]))
    return p.stdout


def make(target_dir, target):
    run(['make', '-s', '-C', target_dir, target], 'build')


values = {}
try:
    make('selftests/doc', 'doc_values')
    for line in run(['selftests/doc/doc_values'], 'doc_values').splitlines():
        k, _, v = line.partition(' ')
        values[k] = v
    report(not any(k.endswith('.error') for k in values),
           'values selftests/doc/doc_values',
           '\n'.join('%s %s' % (k, v) for k, v in values.items()
                     if k.endswith('.error')))
except RuntimeError as e:
    report(False, 'values selftests/doc/doc_values', str(e))


# -- module parameter defaults ("static [unsigned] int NAME = N;" with a
# module_param) and plain "#define RPW_NAME N" constants of driver/*.c
for path in sorted(glob.glob('driver/*.c')):
    with open(path, encoding='utf-8') as f:
        src = f.read()
    for m in re.finditer(r'^static (?:unsigned )?int (\w+) = (\d+);', src, re.M):
        if re.search(r'module_param\(%s,' % m.group(1), src):
            values['param.' + m.group(1)] = m.group(2)
    for m in re.finditer(r'^#define (RPW_\w+)\s+(\d+)\s*$', src, re.M):
        values['const.' + m.group(1)] = m.group(2)


# -- netlink policies (driver/netlink.c) ---------------------------------------
def c_constants():
    """#define NAME NUMBER-EXPR from driver/*.h, enums of the uapi header."""
    consts = {'INT_MAX': '2147483647', 'U8_MAX': '255', 'U16_MAX': '65535',
              'U32_MAX': '4294967295'}
    for path in sorted(glob.glob('driver/*.h')):
        with open(path, encoding='utf-8') as f:
            for m in re.finditer(r'^#define\s+(\w+)\s+([^\n/]+)', f.read(),
                                 re.M):
                consts.setdefault(m.group(1), m.group(2).strip())
    with open('include/uapi/linux/rackpwr.h', encoding='utf-8') as f:
        for body in re.findall(r'enum\s*\w*\s*\{([^}]*)\}', f.read()):
            n = 0
            for item in body.split(','):
                item = re.sub(r'/\*.*?\*/', '', item, flags=re.S).strip()
                if not item:
                    continue
                name, _, val = item.partition('=')
                if val.strip():
                    n = int(val.strip(), 0) if re.match(r'^[\dx]+$', val.strip()) \
                        else c_eval(val.strip(), consts)
                consts[name.strip()] = str(n)
                n += 1
    return consts


def c_eval(expr, consts, depth=0):
    expr = re.sub(r'\b(\d+)U?L*\b', r'\1', expr)

    def sub(m):
        name = m.group(0)
        if name not in consts or depth > 8:
            raise ValueError('unknown constant ' + name)
        return '(%d)' % c_eval(consts[name], consts, depth + 1)
    expr = re.sub(r'\b[A-Za-z_]\w*\b', sub, expr)
    if not re.match(r'^[\d\s()+\-*/x<>a-fA-F]*$', expr):
        raise ValueError('cannot evaluate ' + expr)
    return int(eval(expr.replace('/', '//'), {'__builtins__': {}}))


SETS = ('NODE', 'PEER', 'FRAME', 'CAPACITY', 'BUS_EVENT', 'ELECT', 'SLOT',
        'POWER')
policy = {}     # (set, attr) -> (min or None, max or None)
try:
    consts = c_constants()
    # driver/netlink.c, or policies generated from the spec beside it
    nlc = ''
    for path in sorted(glob.glob('driver/*.c')):
        with open(path, encoding='utf-8') as f:
            text = f.read()
        if 'struct nla_policy' in text:
            nlc += text
    ranges = {}
    for m in re.finditer(r'struct netlink_range_validation (\w+) = '
                         r'\{([^}]*)\}', nlc):
        f = dict(re.findall(r'\.(min|max) = ([^,\n]+),', m.group(2)))
        ranges[m.group(1)] = (c_eval(f.get('min', '0'), consts),
                              c_eval(f['max'], consts))
    for body in re.findall(r'struct nla_policy \w+\[[^]]*\] = '
                           r'\{(.*?)\n\};', nlc, re.S):
        for m in re.finditer(r'\[RACKPWR_A_(\w+)\]\s*=\s*(NLA_POLICY_\w+)'
                             r'\(([^;]*?)\),?\n', body + '\n', re.S):
            full, kind, args = m.group(1), m.group(2), m.group(3)
            aset = next(s for s in sorted(SETS, key=len, reverse=True)
                        if full.startswith(s + '_'))
            attr = full[len(aset) + 1:].lower().replace('_', '-')
            a = [x.strip() for x in ' '.join(args.split()).split(',')]
            if kind == 'NLA_POLICY_RANGE':
                r = (c_eval(a[1], consts), c_eval(a[2], consts))
            elif kind == 'NLA_POLICY_MAX':
                r = (None, c_eval(a[1], consts))
            elif kind == 'NLA_POLICY_MIN':
                r = (c_eval(a[1], consts), None)
            elif kind == 'NLA_POLICY_FULL_RANGE':
                r = ranges[a[1].lstrip('&')]
            else:
                continue
            key = (aset.lower().replace('_', '-'), attr)
            if key in policy and policy[key] != r:
                raise ValueError('%s/%s: two policies disagree' % key)
            policy[key] = r
    for (aset, attr), (lo, hi) in policy.items():
        values['policy.%s.%s' % (aset, attr)] = (
            '>= %d' % lo if hi is None else '%d..%d' % (lo or 0, hi))
    report(bool(policy), 'policy driver/*.c parsed',
           '' if policy else 'no nla_policy ranges found')
except (OSError, ValueError, StopIteration, KeyError) as e:
    report(False, 'policy driver/*.c parsed', repr(e))


def rst_sections(text):
    """{heading: [lines]} for the headings of a document."""
    out, cur, lines = {}, None, text.splitlines()
    for i, line in enumerate(lines):
        if i + 1 < len(lines) and line.strip() and \
           re.match(r'^([-=~^])\1{2,}$', lines[i + 1]) and \
           len(lines[i + 1]) >= len(line.rstrip()):
            cur = line.strip()
            out[cur] = []
        elif cur:
            out[cur].append(line)
    return out


# Ranges the netlink page's attribute tables state, per set.
nl_doc = 'Documentation/netlink/rackpwr.rst'
if policy and os.path.exists(nl_doc):
    with open(nl_doc, encoding='utf-8') as f:
        secs = rst_sections(f.read())
    why = []
    for (aset, attr), (lo, hi) in sorted(policy.items()):
        body = secs.get(aset.replace('-', '_')) or secs.get(aset)
        if body is None:
            why.append('no section "%s" for the %s attributes' % (aset, aset))
            continue
        rows = [i for i, l in enumerate(body)
                if l.startswith('``%s``' % attr)]
        if not rows:
            why.append('%s: attribute %s is not in the table' % (aset, attr))
            continue
        # the row and its continuation lines (first column empty)
        i = rows[0]
        row = [body[i]]
        while i + 1 < len(body) and body[i + 1].startswith(' ') and \
                body[i + 1].strip() and not body[i + 1].startswith('='):
            i += 1
            row.append(body[i])
        text = ' '.join(row)
        want = '>= %d' % lo if hi is None else '%d..%d' % (lo or 0, hi)
        enum = re.findall(r'``[\w-]+`` \((\d+)\)', text)
        if enum:
            got = sorted(int(x) for x in enum)
            if got != list(range(lo or 0, hi + 1)):
                why.append('%s %s: table lists values %s, policy %s' %
                           (aset, attr, got, want))
        elif not re.search(r'(?<![\d.])%s(?![\d.])' % re.escape(want), text):
            why.append('%s %s: table says "%s", policy %s' %
                       (aset, attr, ' '.join(row[0].split()[1:4]), want))
    report(not why, 'policy ranges in ' + nl_doc, '\n'.join(why))

spec = 'Documentation/netlink/specs/rackpwr.yaml'
if policy and yaml is not None and os.path.exists(spec):
    with open(spec, encoding='utf-8') as f:
        sdoc = yaml.safe_load(f)
    enums = {d['name']: d for d in sdoc.get('definitions', [])
             if d.get('type') == 'enum'}
    why = []
    for (aset, attr), (lo, hi) in sorted(policy.items()):
        sset = next((s for s in sdoc.get('attribute-sets', [])
                     if s['name'] == aset), None)
        sattr = next((a for a in (sset or {}).get('attributes', [])
                      if a['name'] == attr), None)
        if sattr is None:
            why.append('%s/%s: not in the spec' % (aset, attr))
            continue
        if 'enum' in sattr:
            e = enums[sattr['enum']]
            start = e.get('value-start', 0)
            vals = [x['value'] if isinstance(x, dict) and 'value' in x
                    else start + i for i, x in enumerate(e['entries'])]
            got = (min(vals), max(vals))
        else:
            c = sattr.get('checks', {})
            got = (c.get('min'), c.get('max'))
            if sattr.get('type') == 'binary':	# a range of lengths
                got = (c.get('min-len'), c.get('max-len'))
        want = (lo if lo is not None or hi is None else 0, hi)
        got = (got[0] if got[0] is not None or got[1] is None else 0, got[1])
        if got != want:
            why.append('%s/%s: spec %s, policy %s' % (aset, attr, got, want))
    report(not why, 'policy ranges in ' + spec, '\n'.join(why))


# -- generators ----------------------------------------------------------------
def bench_lines(out, first):
    """The table of a bench's output: from the line starting FIRST on."""
    lines = [l.rstrip() for l in out.splitlines()]
    start = next(i for i, l in enumerate(lines) if l.startswith(first))
    table = []
    for l in lines[start:]:
        if not l:
            break
        table.append(l)
    return table


def gen_mac_bench(quick):
    make('selftests/bench', 'bench_mac')
    out = run(['selftests/bench/bench_mac'] + (['-n', '2'] if quick else []),
              'bench_mac')
    return bench_lines(out, 'prof ')


def gen_line_bench(quick):
    make('selftests/bench', 'bench_line')
    return bench_lines(run(['selftests/bench/bench_line'], 'bench_line'),
                       'model ')


def gen_elect_bench(urgent):
    def gen(quick):
        make('selftests/sim', 'elect_sim')
        cmd = ['selftests/sim/elect_sim', '--bench']
        out = run(cmd + (['--j-urgent'] if urgent else []) +
                  (['--psu', '2'] if quick else []), 'elect_sim')
        return bench_lines(out, '# rackpwr election bench')
    return gen


def gen_stack(quick):
    sub = ['STACK_SIZES="2 1"', 'STACK_SEEDS=1', 'DUP_SEEDS=1']
    out = run(['make', '-s', '-C', 'selftests/sim', 'stack'] +
              (sub if quick else []), 'stack_sim')
    return [l.rstrip() for l in out.splitlines() if l.startswith(('ok', 'not ok'))]


def gen_start(quick):
    out = run(['make', '-s', '-C', 'selftests/sim', 'start'], 'stack_sim')
    return [l.rstrip() for l in out.splitlines()
            if l.startswith(('ok', 'not ok', '# failed'))]


def gen_start_starved(quick):
    # Fails while some starved start still changes primary: the table
    # says so (not ok and the failing seeds).
    p = subprocess.run(['make', '-s', '-C', 'selftests/sim', 'start-starved'],
                       capture_output=True, text=True)
    lines = [l.rstrip() for l in p.stdout.splitlines()
             if l.startswith(('ok', 'not ok', '# failed'))]
    if not lines:
        raise RuntimeError('stack_sim: make start-starved printed nothing\n'
                           + (p.stderr or '')[-2000:])
    return lines


def gen_test_mac(quick):
    make('selftests/unit', 'test_mac')
    out = run(['selftests/unit/test_mac'], 'test_mac')
    return [l.rstrip() for l in out.splitlines() if ' urgent max ' in l]


def gen_alloc_sim(quick):
    make('selftests/sim', 'alloc_sim')
    out = run(['selftests/sim/alloc_sim', '--seeds', '10000'], 'alloc_sim')
    return [l.rstrip() for l in out.splitlines()
            if l.startswith(('# ', 'ok - ', 'not ok'))]


def gen_policy_bench(quick):
    make('selftests/bench', 'bench_policy')
    out = run(['selftests/bench/bench_policy'], 'bench_policy')
    return bench_lines(out, '# rackpwr policy bench')


def gen_alloc_bench(quick):
    sub = ['ALLOC_BENCH_SEEDS=1']
    out = run(['make', '-s', '-C', 'selftests/sim', 'bench-alloc'] +
              (sub if quick else []), 'stack_sim')
    return bench_lines(out, '# alloc bench')


def gen_rack_bench(target, first):
    def gen(quick):
        sub = ['RACK_BENCH_SEEDS=1']
        out = run(['make', '-s', '-C', 'selftests/sim', target] +
                  (sub if quick else []), 'rack_sim')
        return bench_lines(out, first)
    return gen


def value_table(header, rows):
    """A reST simple table from a header and rows of cells (right-aligned
    numbers, left-aligned text)."""
    cols = list(zip(header, *rows))
    w = [max(len(c) for c in col) for col in cols]
    rule = '  '.join('=' * n for n in w)

    def fmt(cells):
        return '  '.join(c.ljust(n) if not re.match(r'^[\d.]+$', c)
                         else c.rjust(n) for c, n in zip(cells, w)).rstrip()
    return [rule, fmt(header), rule] + [fmt(r) for r in rows] + [rule]


def v(key):
    if key not in values:
        raise KeyError('doc_values has no key ' + key)
    return values[key]


def gen_mac_timers(quick):
    bauds = ('9600', '19200', '38400', '57600', '115200', '230400')
    rows = [[b] + [v('mac.uart.%s.%s' % (b, f)) for f in
                   ('t_ifs_us', 't_slot_us', 't_turn_us', 'ack_timeout_us')]
            for b in bauds]
    return value_table(['baud', 'ifs_us', 'slot_us', 'turnaround_us',
                        'ack_timeout_us'], rows)


def gen_elect_p0(quick):
    names = ('J', 'T_h', 'T_det', 'T_lease', 'G', 'W', 'T_initial', 'member')
    rows = []
    for tol in ('5', '20'):
        for rm in ('4', '8', '12', '61'):
            rows.append([rm, tol] + [v('node.elect.p0.rm%s.tol%s.%s_ms' %
                                       (rm, tol, n)) for n in names])
    return value_table(['rack_modules', 'tol'] + list(names), rows)


def gen_auth_line(quick):
    types = ('ack', 'heartbeat', 'heartbeat_ack', 'cap_report', 'pwr_request',
             'pwr_answer')
    rows = [[t] + [v('auth.%s.%s' % (t, f)) for f in
                   ('chars_plain', 'chars_auth', 'ms_plain', 'ms_auth')]
            for t in types]
    return value_table(['frame', 'chars', 'chars_auth', 'ms', 'ms_auth'],
                       rows)


def gen_auth_cost(quick):
    sub = ['AUTH_SIZES="2 1"', 'AUTH_SEEDS=1']
    out = run(['make', '-s', '-C', 'selftests/sim', 'auth-cost'] +
              (sub if quick else []), 'stack_sim')
    return bench_lines(out, 'rack ')


# name -> (command named in the marker, kind, generator, quick).
# kind "literal": the lines form a literal block; "rst": reST as is.
# quick "exact": regenerated and compared on every run (fast); True: the
# lines a quick run prints (generator(True)) must be in the block; None:
# compared only in --update mode, otherwise every line must match SHAPE.
GEN = {
    'mac-bench': ('make -C selftests/bench run', 'literal', gen_mac_bench,
                  True),
    'line-bench': ('make -C selftests/bench line', 'literal', gen_line_bench,
                   'exact'),
    'elect-bench': ('make -C selftests/sim bench', 'literal',
                    gen_elect_bench(False), True),
    'elect-bench-urgent': ('make -C selftests/sim bench-urgent', 'literal',
                           gen_elect_bench(True), True),
    'stack': ('make -C selftests/sim stack', 'literal', gen_stack, True),
    'test-mac-urgent': ('selftests/unit/test_mac', 'literal', gen_test_mac,
                        None),
    'start': ('make -C selftests/sim start', 'literal', gen_start, None),
    'start-starved': ('make -C selftests/sim start-starved', 'literal',
                      gen_start_starved, None),
    'mac-timers': ('make -C selftests/doc run', 'rst', gen_mac_timers,
                   'exact'),
    'elect-p0': ('make -C selftests/doc run', 'rst', gen_elect_p0, 'exact'),
    'auth-line': ('make -C selftests/doc run', 'rst', gen_auth_line, 'exact'),
    'auth-cost': ('make -C selftests/sim auth-cost', 'literal', gen_auth_cost,
                  True),
    'alloc-sim': ('make -C selftests/sim alloc SEEDS=10000', 'literal',
                  gen_alloc_sim, None),
    'policy-bench': ('make -C selftests/bench bench-policy', 'literal',
                     gen_policy_bench, None),
    'alloc-bench': ('make -C selftests/sim bench-alloc', 'literal',
                    gen_alloc_bench, True),
    'shed-bench': ('make -C selftests/sim bench-shed', 'literal',
                   gen_rack_bench('bench-shed', '# shed bench'), True),
    'failover-bench': ('make -C selftests/sim bench-failover', 'literal',
                       gen_rack_bench('bench-failover', '# failover bench'),
                       True),
    'settle-bench': ('make -C selftests/sim bench-settle', 'literal',
                     gen_rack_bench('bench-settle', '# settle bench'), True),
}

SHAPE = {
    'test-mac-urgent': r'^# .* urgent max [\d.]+ ms \(bound [\d.]+\)',
    'alloc-sim': r'^(# .+|ok - \d+ scenarios, seeds .+, 0 failed, .+)$',
    'policy-bench': r'^(# .+|servers  decide_ns .+|\s*\d+(\s+[\d.]+|\s+n/a)'
                    r'{9}\s+(met|MISSED))$',
    'start': r'^ok - .+: one primary in (\d+)/\1 runs; p50 \d+ ms, .+$',
    'start-starved': r'^((not )?ok - .+: one primary in \d+/\d+ runs; .+|'
                     r'# failed: \./stack_sim .+)$',
}

begin_re = re.compile(r'^\.\. generated: ([\w-]+) \((.+)\)$')
end_re = re.compile(r'^\.\. end generated: ([\w-]+)$')


def block_text(kind, lines):
    if kind == 'literal':
        return ['::', ''] + ['  ' + l if l else '' for l in lines]
    return list(lines)


def block_lines(kind, text):
    """Inverse of block_text for a block as found in a document."""
    if kind == 'literal':
        return [l[2:] for l in text[2:]]
    return list(text)


def seed_ranges(name, lines):
    """NAME.COLUMN_range: "min-max" over a seed table's rows, as printed."""
    rows = [l.split() for l in lines if l.strip() and not l.startswith('#')]
    keys = {}
    for i, h in enumerate(rows[0][1:] if rows else [], 1):
        xs = sorted((r[i] for r in rows[1:] if len(r) > i and
                     re.match(r'^[\d.]+$', r[i])), key=float)
        if xs:
            keys['%s.%s_range' % (name, h)] = '%s-%s' % (xs[0], xs[-1])
    return keys


def table_keys(name, lines):
    """Values prose may quote from a generated table, by cell."""
    keys = {}
    if name == 'mac-bench':
        head = lines[0].split()
        for l in lines[1:]:
            c = l.split()
            for h, x in zip(head[3:], c[3:]):
                keys['%s.%s.%s.%s.%s' % (name, c[0], c[1], c[2], h)] = x
    elif name.startswith('elect-bench'):
        cols = ('boot_follow', 'boot_acting', 'fo_follow', 'fo_acting')
        per = {}
        for l in lines:
            c = l.split()
            if l.startswith('#') or len(c) < 10:
                continue
            for col, cell in zip(cols, (c[2], c[4], c[6], c[8])):
                for st, x in zip(('p50', 'p99', 'max'), cell.split('/')):
                    keys['%s.%s.%s.%s.%s' % (name, c[0], c[1], col, st)] = x
                    per.setdefault((c[0], col, st), []).append(float(x))
        for (d, col, st), xs in per.items():
            keys['%s.%s.%s.%s_range' % (name, d, col, st)] = '%.0f-%.0f' % (
                min(xs), max(xs))
    elif name == 'stack':
        fo = [int(x) for x in re.findall(r'failover: (\d+) ms', '\n'.join(lines))]
        if fo:
            keys['stack.failover_range'] = '%d-%d' % (min(fo), max(fo))
        for prio in ('0', '4'):
            d = [int(x) for x in re.findall(
                r'prio %s seed \d+: reported after (\d+) ms' % prio,
                '\n'.join(lines))]
            if d:
                keys['stack.dup_range.prio%s' % prio] = '%d-%d' % (min(d),
                                                                   max(d))
    elif name == 'alloc-bench':
        # alloc-bench.COLUMN_range: "min-max" over the seeds, as printed
        head = None
        per = {}
        for l in lines:
            c = l.split()
            if l.startswith('#') or not c:
                continue
            if head is None:
                head = c
                continue
            for h, x in zip(head[1:], c[1:]):
                per.setdefault(h, []).append(x)
        for h, xs in per.items():
            xs = sorted(xs, key=float)
            keys['alloc-bench.%s_range' % h] = '%s-%s' % (xs[0], xs[-1])
    elif name in ('shed-bench', 'failover-bench', 'settle-bench'):
        keys.update(seed_ranges(name, lines))
    elif name == 'test-mac-urgent':
        for l in lines:
            m = re.search(r'# (.*?) \+ urgent: .* urgent max ([\d.]+) ms', l)
            if m:
                keys['test-mac.urgent_max.' +
                     re.sub(r'\W+', '-', m.group(1)).strip('-')] = m.group(2)
    return keys


cache = {}


def generate(name, quick):
    if (name, quick) not in cache:
        cache[(name, quick)] = GEN[name][2](quick)
    return cache[(name, quick)]


for path in rst_files:
    with open(path, encoding='utf-8') as f:
        lines = f.read().split('\n')
    out, i, changed, why = [], 0, False, []
    while i < len(lines):
        m = begin_re.match(lines[i])
        if not m:
            if end_re.match(lines[i]):
                why.append('%s:%d: end marker without a begin' % (path, i + 1))
            out.append(lines[i])
            i += 1
            continue
        name, cmd = m.group(1), m.group(2)
        j = next((k for k in range(i + 1, len(lines))
                  if end_re.match(lines[k]) or begin_re.match(lines[k])), None)
        what = 'gen %s:%d %s' % (path, i + 1, name)
        if j is None or not end_re.match(lines[j]) or \
                end_re.match(lines[j]).group(1) != name:
            report(False, what, 'no ".. end generated: %s" after it' % name)
            out.append(lines[i])
            i += 1
            continue
        if name not in GEN or GEN[name][0] != cmd:
            report(False, what, 'unknown generator, or not made by "%s" '
                   '(known: %s)' % (cmd, ', '.join(
                       '%s (%s)' % (n, g[0]) for n, g in GEN.items())))
            if name in GEN:
                values.update(table_keys(name, block_lines(
                    GEN[name][1], lines[i + 2:j - 1])))
            out.extend(lines[i:j + 1])
            i = j + 1
            continue
        kind, quick = GEN[name][1], GEN[name][3]
        body = lines[i + 1:j]
        # one blank line on each side of the generated text
        inner = body[1:-1] if len(body) >= 2 else []
        have = block_lines(kind, inner)
        try:
            if update or quick == 'exact':
                want = generate(name, False)
                text = [''] + (block_text(kind, want) if want else []) + ['']
                if update and body != text:
                    changed = True
                    body, have = text, want
                ok = have == want
                msg = '' if ok else '\n'.join(
                    difflib.unified_diff(have, want, 'document', cmd,
                                         lineterm='', n=0))
            elif quick:
                sample = generate(name, True)
                missing = [l for l in sample if l not in have]
                ok = bool(sample) and not missing
                msg = '' if ok else (
                    'lines "%s" prints that the table lacks (rerun '
                    'scripts/doc-check.sh --update):\n' % ' '.join(
                        GEN[name][0].split()) + '\n'.join(missing))
            else:
                bad = [l for l in have if not re.match(SHAPE[name], l)]
                ok = bool(have) and not bad
                msg = 'empty table, or lines not as %s prints them (run ' \
                    'scripts/doc-check.sh --update):\n%s' % (
                        cmd, '\n'.join(bad))
            if body and body[0] != '' or len(body) < 2 or body[-1] != '':
                ok, msg = False, 'a blank line must follow the begin ' \
                    'marker and precede the end marker'
        except (RuntimeError, KeyError, StopIteration) as e:
            ok, msg = False, str(e)
        report(ok, what, msg)
        values.update(table_keys(name, have))
        out.append(lines[i])
        out.extend(body)
        out.append(lines[j])
        i = j + 1
    if why:
        report(False, 'gen ' + path, '\n'.join(why))
    if changed:
        with open(path, 'w', encoding='utf-8') as f:
            f.write('\n'.join(out))

# ".. checked: KEY ..." : each value appears in the block that follows.
checked_re = re.compile(r'^\s*\.\. checked: (.+)$')
for path in rst_files:
    with open(path, encoding='utf-8') as f:
        lines = f.read().split('\n')
    for n, line in enumerate(lines):
        m = checked_re.match(line)
        if not m:
            continue
        k = n + 1
        while k < len(lines) and not lines[k].strip():
            k += 1
        block = []
        while k < len(lines) and lines[k].strip():
            block.append(lines[k])
            k += 1
        text = ' '.join(' '.join(block).split())
        why = []
        for key in m.group(1).split():
            if key not in values:
                why.append('unknown key %s' % key)
                continue
            val = ' '.join(values[key].split())
            if not re.search(r'(?<![\w])(?<!\d\.)%s(?![\w]|\.\d)' %
                             re.escape(val),
                             text):
                why.append('%s is %s; the text below the marker does not '
                           'say so' % (key, val))
        report(not why, 'value %s:%d' % (path, n + 1), '\n'.join(why))

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
