# The Spark SQL of docs/archive.md, run against an archive directory; prints the answers as
# JSON in the shape of duckdb_queries.py, so the two can be compared. Not run by the test
# suite (it needs a JVM and pyspark); run by hand:
#   python3 spark_queries.py DIR KEY > spark.json; python3 duckdb_queries.py DIR KEY > duck.json
import json
import sys

from pyspark.sql import SparkSession

archive, key = sys.argv[1], sys.argv[2]
spark = (
    SparkSession.builder.master("local[1]")
    .appName("auditrum-archive")
    .config("spark.ui.enabled", "false")
    .config("spark.sql.session.timeZone", "UTC")
    .getOrCreate()
)
spark.sparkContext.setLogLevel("ERROR")
spark.sql(f"""CREATE TEMPORARY VIEW events USING parquet
  OPTIONS (path '{archive}/table=auditlog')""")
spark.sql(f"""CREATE TEMPORARY VIEW contexts USING parquet
  OPTIONS (path '{archive}/table=auditlog_context')""")
months = spark.sql(
    "SELECT month, count(*) AS events FROM events GROUP BY month ORDER BY month"
).collect()
history = spark.sql(f"""
SELECT e.id, e.changed_at, e.operation, e.diff, e.new_data,
       get_json_object(c.context, '$.user_id') AS user_id
FROM events e LEFT JOIN contexts c ON c.id = e.context_id
WHERE e.table_schema = 'public' AND e.table_name = 'notes' AND e.record_id = '{key}'
ORDER BY e.id
""").collect()
print(json.dumps({
    # month= is discovered as a column; Spark may type 2025-09 as a string or a date.
    "months": [[str(r["month"]), r["events"]] for r in months],
    "history": [
        [r["id"], int(r["changed_at"].timestamp() * 1_000_000), r["operation"], r["diff"],
         r["new_data"], r["user_id"]]
        for r in history
    ],
}))
spark.stop()
