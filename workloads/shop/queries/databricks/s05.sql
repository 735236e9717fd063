-- Page views by page and device (JSON properties)
-- Databricks' own form of the shared s05.sql. That file is Snowflake SQL, and sqlglot turns its
-- JSON_EXTRACT_PATH_TEXT into GET_JSON_OBJECT, which reads only JSON text ("expr: A STRING
-- expression containing well formed JSON",
-- https://docs.databricks.com/aws/en/sql/language-manual/functions/get_json_object, read
-- 2026-12-06), while JSON columns are VARIANT on Databricks (workloads/_shared/dialect.sql.j2,
-- sql_type). A VARIANT is read with a `:` path and a `::` cast
-- (https://docs.databricks.com/aws/en/semi-structured/variant, read 2026-12-06). NULLS LAST is
-- Snowflake's order for NULLs, which the translation keeps too; Databricks puts them first.
SELECT properties:page::STRING AS page,
       properties:device::STRING AS device,
       COUNT(*) AS views
FROM events
GROUP BY 1, 2
ORDER BY 1 NULLS LAST, 2 NULLS LAST;
