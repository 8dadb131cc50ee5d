#!/usr/bin/env python3
"""Our WBXML decoder and libwbxml agree on every response a real server sent.

usage: wbxml_agree.py EAS_WBXML WBXML2XML DIR

Every DIR/*.wbxml (bodies saved by folder_sync_probe --save) is decoded by
`eas-wbxml decode` and by `wbxml2xml -k -l ACTIVESYNC`; the two XML trees
must be equal: same (namespace, name, text) everywhere, namespaces without the
trailing colon, libwbxml's other spellings of some names mapped back (the
table is the one of tests/oracle/libwbxml_agree.py).  Line ends in text are
compared as LF: libwbxml writes a CR raw, and XML parsing turns it into LF,
while eas-wbxml writes &#13; so that it survives.
Prints one line per file and "N passed, M failed"; exit 1 on any difference.
"""
import os
import subprocess
import sys
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'oracle'))
try:
    from libwbxml_agree import LIBWBXML_SPELLING
except ImportError:
    LIBWBXML_SPELLING = {}


def respell(ns, name):
    for (fns, fname), (tns, tname) in LIBWBXML_SPELLING.items():
        if fns == ns and fname in (None, name):
            return tns, (name if fname is None else tname)
    return ns, name


def tree(data, lib):
    def walk(el):
        ns, name = el.tag[1:].split('}', 1) if el.tag.startswith('{') else ('', el.tag)
        ns = ns[:-1] if ns.endswith(':') else ns
        if lib:
            ns, name = respell(ns, name)
        text = ''.join(el.itertext()) if len(el) == 0 else (el.text or '')
        text = text.replace('\r\n', '\n').replace('\r', '\n')
        if text.strip() == '':
            text = ''
        return (ns, name, text, [walk(c) for c in el])
    return walk(ET.fromstring(data))


def difference(a, b, path=''):
    here = '%s/%s:%s' % (path, a[0], a[1])
    if a[:2] != b[:2]:
        return '%s: element %s:%s vs %s:%s' % (path, a[0], a[1], b[0], b[1])
    if a[2] != b[2]:
        return '%s: text %r vs %r' % (here, a[2][:60], b[2][:60])
    if len(a[3]) != len(b[3]):
        return '%s: %d vs %d children' % (here, len(a[3]), len(b[3]))
    for ca, cb in zip(a[3], b[3]):
        d = difference(ca, cb, here)
        if d:
            return d
    return None


def main():
    if len(sys.argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    ours, wbxml2xml, folder = sys.argv[1:]
    passed = failed = 0
    for name in sorted(os.listdir(folder)):
        if not name.endswith('.wbxml'):
            continue
        path = os.path.join(folder, name)
        try:
            a = subprocess.run([ours, 'decode', path], capture_output=True, check=True).stdout
            b = subprocess.run([wbxml2xml, '-k', '-m', '0', '-l', 'ACTIVESYNC', '-o', '/dev/stdout', path],
                               capture_output=True, check=True).stdout
            diff = difference(tree(a, False), tree(b, True))
        except subprocess.CalledProcessError as e:
            diff = '%s failed (%d): %s' % (e.cmd[0], e.returncode, e.stderr.decode(errors='replace').strip())
        except ET.ParseError as e:
            diff = 'XML not well-formed: %s' % e
        if diff:
            failed += 1
            print('FAIL %s: %s' % (name, diff))
        else:
            passed += 1
            print('ok   %s (%d bytes)' % (name, os.path.getsize(path)))
    print('%d passed, %d failed' % (passed, failed))
    return 1 if failed or not passed else 0


if __name__ == '__main__':
    sys.exit(main())
