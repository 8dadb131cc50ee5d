#!/usr/bin/env python3
"""Agreement between libeas's eas-wbxml and libwbxml (wbxml2xml / xml2wbxml).

For every XML vector NAME.xml in the corpus directory:
  ours-roundtrip : eas-wbxml encode, then eas-wbxml decode == the source
  decode-agree   : our WBXML decoded by wbxml2xml -l ACTIVESYNC == decoded by us
  lib-encode     : xml2wbxml -a -n output decoded by us == the source
For every hand-written NAME.wbxml vector:
  wbxml-agree    : wbxml2xml and eas-wbxml decode it to the same tree

"Equal" is semantic: the same tree of (namespace, name, text), namespaces
compared without the trailing colon, whitespace-only text ignored.
Where libwbxml 0.11 is wrong or incomplete the specification decides, and
the disagreement is listed in KNOWN_DEVIATIONS with its reason; any other
disagreement fails, and so does a listed deviation that no longer happens.

usage: libwbxml_agree.py EAS_WBXML WBXML2XML XML2WBXML CORPUS_DIR
"""
import os
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

# libwbxml 0.11.8 spells some namespaces and elements differently from the
# specification (its ActiveSync table follows old MS-ASWBXML drafts).  Same
# code page and token, other name: (libwbxml ns, name) -> (spec ns, name).
# Applied when comparing, and the other way round before xml2wbxml reads a
# vector, so the rest of such a vector is still checked.  Each use is
# reported as a known deviation.  name None = the whole namespace.
LIBWBXML_SPELLING = {
    # MS-ASWBXML code page 16 is "GAL" (GAL.xsd targetNamespace "GAL");
    # libwbxml calls the namespace "Gal".
    ('Gal', None): ('GAL', None),
    # Contacts: MS-ASCNTC names the address parts "<Kind>Address<Part>";
    # libwbxml uses the pre-12.0 draft names.
    ('Contacts', 'AssistantTelephoneNumber'): ('Contacts', 'AssistantPhoneNumber'),
    ('Contacts', 'BusinessCity'): ('Contacts', 'BusinessAddressCity'),
    ('Contacts', 'BusinessCountry'): ('Contacts', 'BusinessAddressCountry'),
    ('Contacts', 'BusinessPostalCode'): ('Contacts', 'BusinessAddressPostalCode'),
    ('Contacts', 'BusinessState'): ('Contacts', 'BusinessAddressState'),
    ('Contacts', 'BusinessStreet'): ('Contacts', 'BusinessAddressStreet'),
    ('Contacts', 'HomeCity'): ('Contacts', 'HomeAddressCity'),
    ('Contacts', 'HomeCountry'): ('Contacts', 'HomeAddressCountry'),
    ('Contacts', 'HomePostalCode'): ('Contacts', 'HomeAddressPostalCode'),
    ('Contacts', 'HomeState'): ('Contacts', 'HomeAddressState'),
    ('Contacts', 'HomeStreet'): ('Contacts', 'HomeAddressStreet'),
    ('Contacts', 'OtherCity'): ('Contacts', 'OtherAddressCity'),
    ('Contacts', 'OtherCountry'): ('Contacts', 'OtherAddressCountry'),
    ('Contacts', 'OtherPostalCode'): ('Contacts', 'OtherAddressPostalCode'),
    ('Contacts', 'OtherState'): ('Contacts', 'OtherAddressState'),
    ('Contacts', 'OtherStreet'): ('Contacts', 'OtherAddressStreet'),
    # Email (2.5 names): "Att0Id" with a zero, "ReplyTo"; libwbxml has a
    # letter O and a hyphen.
    ('Email', 'AttOId'): ('Email', 'Att0Id'),
    ('Email', 'Reply-To'): ('Email', 'ReplyTo'),
    # MS-ASEMAIL/MS-ASCAL spell "DtStamp"; the Flag child is email:Status.
    ('Email', 'DTStamp'): ('Email', 'DtStamp'),
    ('Email', 'FlagStatus'): ('Email', 'Status'),
    # libwbxml prefixes the children of Recurrence, Attendee, Exception and
    # Organizer with "<Parent>_" to tell same-named tokens apart; the spec
    # names them plainly (the page and the parent tell them apart).
    ('Email', 'Recurrence_Type'): ('Email', 'Type'),
    ('Email', 'Recurrence_Until'): ('Email', 'Until'),
    ('Email', 'Recurrence_Occurrences'): ('Email', 'Occurrences'),
    ('Email', 'Recurrence_Interval'): ('Email', 'Interval'),
    ('Email', 'Recurrence_DayOfWeek'): ('Email', 'DayOfWeek'),
    ('Email', 'Recurrence_DayOfMonth'): ('Email', 'DayOfMonth'),
    ('Email', 'Recurrence_WeekOfMonth'): ('Email', 'WeekOfMonth'),
    ('Email', 'Recurrence_MonthOfYear'): ('Email', 'MonthOfYear'),
    # Calendar: MS-ASWBXML writes "Timezone" (Email's is "TimeZone").
    ('Calendar', 'TimeZone'): ('Calendar', 'Timezone'),
    ('Calendar', 'DTStamp'): ('Calendar', 'DtStamp'),
    ('Calendar', 'Attendee_Email'): ('Calendar', 'Email'),
    ('Calendar', 'Attendee_Name'): ('Calendar', 'Name'),
    ('Calendar', 'Attendee_Status'): ('Calendar', 'AttendeeStatus'),
    ('Calendar', 'Attendee_Type'): ('Calendar', 'AttendeeType'),
    ('Calendar', 'Exception_Deleted'): ('Calendar', 'Deleted'),
    ('Calendar', 'Exception_StartTime'): ('Calendar', 'ExceptionStartTime'),
    ('Calendar', 'Organizer_Email'): ('Calendar', 'OrganizerEmail'),
    ('Calendar', 'Organizer_Name'): ('Calendar', 'OrganizerName'),
    ('Calendar', 'Recurrence_Type'): ('Calendar', 'Type'),
    ('Calendar', 'Recurrence_Until'): ('Calendar', 'Until'),
    ('Calendar', 'Recurrence_Occurrences'): ('Calendar', 'Occurrences'),
    ('Calendar', 'Recurrence_Interval'): ('Calendar', 'Interval'),
    ('Calendar', 'Recurrence_DayOfWeek'): ('Calendar', 'DayOfWeek'),
    ('Calendar', 'Recurrence_DayOfMonth'): ('Calendar', 'DayOfMonth'),
    ('Calendar', 'Recurrence_WeekOfMonth'): ('Calendar', 'WeekOfMonth'),
    ('Calendar', 'Recurrence_MonthOfYear'): ('Calendar', 'MonthOfYear'),
    # Tasks: MS-ASTASK "UtcStartDate"/"UtcDueDate", plain Recurrence children.
    ('Tasks', 'UTCStartDate'): ('Tasks', 'UtcStartDate'),
    ('Tasks', 'UTCDueDate'): ('Tasks', 'UtcDueDate'),
    ('Tasks', 'Recurrence_Type'): ('Tasks', 'Type'),
    ('Tasks', 'Recurrence_Start'): ('Tasks', 'Start'),
    ('Tasks', 'Recurrence_Until'): ('Tasks', 'Until'),
    ('Tasks', 'Recurrence_Occurrences'): ('Tasks', 'Occurrences'),
    ('Tasks', 'Recurrence_Interval'): ('Tasks', 'Interval'),
    ('Tasks', 'Recurrence_DayOfMonth'): ('Tasks', 'DayOfMonth'),
    ('Tasks', 'Recurrence_DayOfWeek'): ('Tasks', 'DayOfWeek'),
    ('Tasks', 'Recurrence_WeekOfMonth'): ('Tasks', 'WeekOfMonth'),
    ('Tasks', 'Recurrence_MonthOfYear'): ('Tasks', 'MonthOfYear'),
    ('Tasks', 'Recurrence_Regenerate'): ('Tasks', 'Regenerate'),
    ('Tasks', 'Recurrence_DeadOccur'): ('Tasks', 'DeadOccur'),
    # Provision: MS-ASPROV "RequireStorageCardEncryption" (the 12.0 draft
    # called the token "DeviceEncryptionEnabled").
    ('Provision', 'DeviceEncryptionEnabled'): ('Provision', 'RequireStorageCardEncryption'),
    # Settings: MS-ASCMD "SMTPAddress"; libwbxml has a typo in
    # "RightsManagementInformation" ("ihsManagementInformation").
    ('Settings', 'SmtpAddress'): ('Settings', 'SMTPAddress'),
    ('Settings', 'ihsManagementInformation'): ('Settings', 'RightsManagementInformation'),
    # ComposeMail: MS-ASCMD "Mime", and Forwardee's children "Name"/"Email".
    ('ComposeMail', 'MIME'): ('ComposeMail', 'Mime'),
    ('ComposeMail', 'ForwardeeName'): ('ComposeMail', 'Name'),
    ('ComposeMail', 'ForwardeeEmail'): ('ComposeMail', 'Email'),
    # RightsManagement: MS-ASRM "Owner" and "RemoveRightsManagementProtection".
    ('RightsManagement', 'RMOwner'): ('RightsManagement', 'Owner'),
    ('RightsManagement', 'RemoveRightsManagementDistribution'):
        ('RightsManagement', 'RemoveRightsManagementProtection'),
}
# Tokens libwbxml 0.11.8 does not know at all (so no vector may use them in
# a check that involves libwbxml without a KNOWN_DEVIATIONS entry): the
# whole Find page (25, 16.1), MeetingResponse ProposedStartTime and
# ProposedEndTime (16.1), Provision AccountOnlyRemoteWipe (16.1).

# Disagreements that no spelling explains: (vector, check) -> reason.
KNOWN_DEVIATIONS = {
    # libwbxml 0.11.8 has no code page 25 (Find, 16.1): wbxml2xml decodes
    # its tokens on a wrong page and xml2wbxml cannot encode the namespace.
    ('find-request', 'decode-agree'): 'libwbxml lacks code page 25 (Find)',
    ('find-request', 'lib-encode'): 'libwbxml lacks code page 25 (Find)',
    ('find-gal-request', 'decode-agree'): 'libwbxml lacks code page 25 (Find)',
    ('find-gal-request', 'lib-encode'): 'libwbxml lacks code page 25 (Find)',
    ('find-response', 'decode-agree'): 'libwbxml lacks code page 25 (Find)',
    ('find-response', 'lib-encode'): 'libwbxml lacks code page 25 (Find)',
    # OPAQUE outside a byte-array element (here airsyncbase:Data): libwbxml
    # copies the raw bytes into the XML, which is then not well-formed; we
    # write base64 as for any other OPAQUE value.
    ('odd-opaque-values', 'wbxml-agree'): 'libwbxml writes raw OPAQUE bytes into XML text',
}


used_spellings = set()


def respell(ns, name, table):
    for (fns, fname), (tns, tname) in table.items():
        if fns == ns and fname in (None, name):
            used_spellings.add((fns, fname))
            return tns, (name if fname is None else tname)
    return ns, name


def canon(data, spelling=None):
    """The (namespace, name, text, children) tree of an XML document."""
    root = ET.fromstring(data)

    def walk(el):
        tag = el.tag
        if tag.startswith('{'):
            ns, name = tag[1:].split('}', 1)
        else:
            ns, name = '', tag
        ns = ns[:-1] if ns.endswith(':') else ns
        if spelling:
            ns, name = respell(ns, name, spelling)
        text = ''.join(el.itertext()) if len(el) == 0 else (el.text or '')
        if text.strip(' \t\r\n') == '':
            text = ''
        return (ns, name, text, tuple(walk(c) for c in el))
    return walk(root)


def first_difference(a, b, path=''):
    if a is None or b is None:
        return path + ': missing element'
    here = '%s/%s:%s' % (path, a[0], a[1])
    if a[:2] != b[:2]:
        return '%s: element %s:%s vs %s:%s' % (path, a[0], a[1], b[0], b[1])
    if a[2] != b[2]:
        return '%s: text %r vs %r' % (here, a[2][:60], b[2][:60])
    for i in range(max(len(a[3]), len(b[3]))):
        ca = a[3][i] if i < len(a[3]) else None
        cb = b[3][i] if i < len(b[3]) else None
        d = first_difference(ca, cb, here)
        if d:
            return d
    return None


def run(cmd, data=None):
    p = subprocess.run(cmd, input=data, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if p.returncode != 0:
        raise RuntimeError('%s failed (%d): %s' % (' '.join(cmd), p.returncode,
                                                   p.stderr.decode(errors='replace').strip()))
    return p.stdout


def main():
    if len(sys.argv) != 5:
        print(__doc__, file=sys.stderr)
        return 2
    ours, wbxml2xml, xml2wbxml, corpus = sys.argv[1:]
    tmp = tempfile.mkdtemp(prefix='eas-oracle-')
    results = {}   # (vector, check) -> None (agree) or difference text
    spelled = {}   # (vector, check) -> libwbxml spellings it needed
    to_lib = {v: k for k, v in LIBWBXML_SPELLING.items()}

    def lib_input(path, vec):
        """The vector in libwbxml's spelling, for xml2wbxml."""
        tree = ET.parse(path)
        for el in tree.iter():
            if el.tag.startswith('{'):
                ns, name = el.tag[1:].split('}', 1)
                ns = ns[:-1] if ns.endswith(':') else ns
                ns, name = respell(ns, name, to_lib)
                el.tag = '{%s:}%s' % (ns, name)
        out = os.path.join(tmp, vec + '.lib-input.xml')
        body = ET.tostring(tree.getroot(), encoding='unicode')
        with open(out, 'w', encoding='utf-8') as f:
            f.write('<?xml version="1.0" encoding="utf-8"?>\n'
                    '<!DOCTYPE ActiveSync PUBLIC "-//MICROSOFT//DTD ActiveSync//EN" '
                    '"http://www.microsoft.com/">\n' + body + '\n')
        return out

    def lib_decode(path):
        out = os.path.join(tmp, 'lib.xml')
        run([wbxml2xml, '-l', 'ACTIVESYNC', '-o', out, path])
        with open(out, 'rb') as f:
            return f.read()

    def check(key, fn):
        try:
            a, b = fn()
            used_spellings.clear()
            results[key] = first_difference(canon(a), canon(b, LIBWBXML_SPELLING))
            if results[key] is None and used_spellings:
                spelled[key] = sorted('%s:%s' % (k[0], k[1] or '*') for k in used_spellings)
        except (RuntimeError, ET.ParseError) as e:
            results[key] = 'error: %s' % e

    names = sorted(os.listdir(corpus))
    for name in names:
        path = os.path.join(corpus, name)
        if name.endswith('.xml'):
            vec = name[:-4]
            if os.path.exists(os.path.join(corpus, vec + '.wbxml')):
                continue   # the expected decoding of a hand-written vector
            with open(path, 'rb') as f:
                src = f.read()
            wb = os.path.join(tmp, vec + '.wbxml')
            with open(wb, 'wb') as f:
                f.write(run([ours, 'encode', path]))
            check((vec, 'ours-roundtrip'), lambda: (src, run([ours, 'decode', wb])))
            check((vec, 'decode-agree'), lambda: (run([ours, 'decode', wb]), lib_decode(wb)))

            def lib_encode():
                lw = os.path.join(tmp, vec + '.lib.wbxml')
                run([xml2wbxml, '-a', '-n', '-o', lw, lib_input(path, vec)])
                return src, run([ours, 'decode', lw])
            check((vec, 'lib-encode'), lib_encode)
        elif name.endswith('.wbxml'):
            vec = name[:-6]
            check((vec, 'wbxml-agree'), lambda: (run([ours, 'decode', path]), lib_decode(path)))

    failed = 0
    agreed = 0
    for key in sorted(results):
        diff = results[key]
        known = KNOWN_DEVIATIONS.get(key)
        if diff is None and known is None:
            agreed += 1
            if key in spelled:
                print('KNOWN  %s %s: agrees given libwbxml spelling %s' % (key[0], key[1], ', '.join(spelled[key])))
        elif diff is None:
            print('STALE  %s %s: listed as a libwbxml deviation (%s) but now agrees' % (key[0], key[1], known))
            failed += 1
        elif known is None:
            print('FAIL   %s %s: %s' % (key[0], key[1], diff))
            failed += 1
        else:
            print('KNOWN  %s %s: %s [%s]' % (key[0], key[1], diff, known))
    for key in sorted(set(KNOWN_DEVIATIONS) - set(results)):
        print('STALE  %s %s: listed deviation for a check that did not run' % key)
        failed += 1
    print('%d agreed, %d known deviations, %d failed' % (agreed, len(results) - agreed - failed, failed))
    print('%d passed, %d failed' % (len(results) - failed, failed))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
