# An attacker with write access to the archive: rewrites one event's new_data in the events
# file with DuckDB and puts the new file's SHA-256 in the manifest, so that every file
# matches its manifest. Usage: python3 THIS FILE MANIFEST EVENT_ID
import hashlib
import json
import os
import sys

import duckdb

path, manifest_path, event_id = sys.argv[1], sys.argv[2], int(sys.argv[3])
tmp = path + ".rewritten"
duckdb.connect().execute(f"""
    COPY (SELECT * REPLACE (CASE WHEN id = {event_id} THEN '{{"forged": true}}' ELSE new_data END AS new_data)
          FROM read_parquet('{path}', hive_partitioning = false) ORDER BY id)
    TO '{tmp}' (FORMAT parquet)
""")
os.replace(tmp, path)
with open(path, "rb") as f:
    data = f.read()
manifest = json.load(open(manifest_path))
for entry in manifest["files"]:
    if path.endswith(entry["path"]):
        entry["sha256"] = hashlib.sha256(data).hexdigest()
        entry["bytes"] = len(data)
json.dump(manifest, open(manifest_path, "w"), indent=2)
