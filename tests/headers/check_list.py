#!/usr/bin/env python3
"""Fails when a header under sdk/include has no compile-alone check."""
import os
import sys

include_dir, build_dir = sys.argv[1], sys.argv[2]
missing = []
count = 0
for root, _, names in os.walk(include_dir):
    for name in names:
        if not name.endswith('.h'):
            continue
        rel = os.path.relpath(os.path.join(root, name), include_dir)
        count += 1
        stub = 'hdr_' + ''.join(c if c.isalnum() else '_' for c in rel) + '.c'
        if not os.path.exists(os.path.join(build_dir, stub)):
            missing.append(rel)
if missing:
    print('headers not in eas_header_names (sdk/meson.build):', ', '.join(missing))
    sys.exit(1)
print(f'{count} public headers, each compiled alone as strict C99')
