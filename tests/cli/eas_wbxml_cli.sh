#!/usr/bin/env bash
# eas-wbxml's command-line contract: exit codes (0 ok, 1 bad input, 2 usage,
# 3 I/O), messages that locate the fault, and hostile input refused cleanly.
# Under an ASan build, any leak or memory error also fails the tool, so this
# checks that too.  Usage: eas_wbxml_cli.sh EAS_WBXML DATA_DIR
set -u
tool=$1
data=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0

# expect CODE PATTERN -- command...: runs it, checks the exit code and that stderr
# matches PATTERN (an empty PATTERN: stderr must be empty).
expect() {
	local code=$1 pattern=$2
	shift 3
	"$@" >"$work/out" 2>"$work/err"
	local rc=$?
	local ok=1
	if [ -z "$pattern" ]; then
		[ -s "$work/err" ] && ok=0 # success must be silent on stderr
	else
		grep -qE -- "$pattern" "$work/err" || ok=0
	fi
	if [ "$rc" -ne "$code" ] || [ $ok -eq 0 ]; then
		echo "FAIL: $* -> exit $rc (want $code), stderr:"
		sed 's/^/    /' "$work/err" | head -5
		failures=$((failures + 1))
	fi
}

src=$data/sync-response-email.xml
"$tool" encode "$src" >"$work/good.wbxml" || { echo "FAIL: encode of $src"; exit 1; }

# Success paths.
expect 0 '' -- "$tool" decode "$work/good.wbxml"
grep -q '<Sync xmlns="AirSync:">' "$work/out" || { echo "FAIL: decode output lacks the root"; failures=$((failures + 1)); }
expect 0 '' -- "$tool" decode - <"$work/good.wbxml"
expect 0 '' -- "$tool" query decode 'jAAJBAp2MTQwRGV2aWNlAApTbWFydFBob25l'
grep -q 'device-id: v140Device' "$work/out" || { echo "FAIL: query decode output"; failures=$((failures + 1)); }

# Usage errors: 2.
expect 2 'missing command' -- "$tool"
expect 2 'usage|unknown' -- "$tool" frobnicate
expect 2 'usage|unknown|option' -- "$tool" decode --no-such-option "$work/good.wbxml"
expect 2 'usage|version|protocol' -- "$tool" encode --protocol 99.9 "$src"

# I/O errors: 3.
expect 3 'no-such-file' -- "$tool" decode "$work/no-such-file"

# Bad input: 1, with the byte offset (WBXML) or FILE:LINE:COLUMN (XML).
head -c 37 "$work/good.wbxml" >"$work/cut.wbxml"
expect 1 'byte offset 37' -- "$tool" decode "$work/cut.wbxml"
printf '\x03\x01\x6a\x00\x45\x00\x48\x45\x01\x01' >"$work/page72.wbxml"
expect 1 'byte offset 6.*code page 72' -- "$tool" decode "$work/page72.wbxml"
expect 0 '' -- "$tool" decode --tolerant "$work/page72.wbxml"
printf '\x03\x01\x6a\x00\x45\x83\x00\x01' >"$work/strt.wbxml"
expect 1 'byte offset 5' -- "$tool" decode "$work/strt.wbxml"
head -c 4096 /dev/urandom >"$work/random.wbxml"
expect 1 'byte offset' -- "$tool" decode "$work/random.wbxml"
: >"$work/empty.wbxml"
expect 1 'empty|truncated' -- "$tool" decode "$work/empty.wbxml"
printf '<Sync xmlns="AirSync:"><Collections>\n<Nope/></Collections></Sync>' >"$work/unknown.xml"
expect 1 'unknown.xml:2:[0-9]+: unknown element .Nope.' -- "$tool" encode "$work/unknown.xml"
printf '<Sync xmlns="AirSync:"><Collections>' >"$work/open.xml"
expect 1 'open.xml:1:[0-9]+:' -- "$tool" encode "$work/open.xml"
cat >"$work/laughs.xml" <<'XML'
<?xml version="1.0"?>
<!DOCTYPE Sync [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>
<Sync xmlns="AirSync:"><SyncKey>&c;&c;&c;&c;</SyncKey></Sync>
XML
expect 1 'entit|DTD|DOCTYPE' -- "$tool" encode "$work/laughs.xml"
printf '<Sync xmlns="AirSync:"><Collections><Collection><Truncation>1</Truncation></Collection></Collections></Sync>' >"$work/v25.xml"
expect 1 'Truncation|version|14.1' -- "$tool" encode --protocol 14.1 "$work/v25.xml"
expect 0 '' -- "$tool" encode --protocol 2.5 "$work/v25.xml"
expect 1 'base64|malformed|invalid' -- "$tool" query decode 'jAAJBAp2MTQwRGV2'

if [ "$failures" -ne 0 ]; then
	echo "$failures eas-wbxml CLI check(s) failed"
	exit 1
fi
echo "eas-wbxml CLI: all checks passed"
