# The questions of docs/archive.md asked of an archive in DuckDB; prints the answers as
# JSON for tests/archive/duckdb.rs to compare with PostgreSQL's. Usage: python3 THIS DIR KEY
import json
import sys

import duckdb

archive, key = sys.argv[1], sys.argv[2]
con = duckdb.connect()
con.execute(f"""
    CREATE VIEW events AS SELECT * FROM read_parquet('{archive}/table=auditlog/*/*.parquet', hive_partitioning = true);
    CREATE VIEW contexts AS SELECT * FROM read_parquet('{archive}/table=auditlog_context/*/*.parquet', hive_partitioning = true);
""")
months = con.execute("""
    SELECT month, count(*) AS events FROM events GROUP BY month ORDER BY month
""").fetchall()
history = con.execute("""
    SELECT e.id, epoch_us(e.changed_at) AS changed_at_us, e.operation, e.diff, e.new_data,
           json_extract_string(COALESCE(e.context, c.context), '$.user_id') AS user_id
    FROM events e LEFT JOIN contexts c ON c.id = e.context_id
    WHERE e.table_schema = 'public' AND e.table_name = 'notes' AND e.record_id = ?
    ORDER BY e.id
""", [key]).fetchall()
print(json.dumps({"months": months, "history": history}))
