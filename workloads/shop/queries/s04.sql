-- Share of orders cancelled or returned, by country
-- The flag is cast to a float: Redshift returns AVG of an integer as BIGINT, so the share would
-- be 0 there (AWS, "AVG function", https://docs.aws.amazon.com/redshift/latest/dg/r_AVG.html,
-- read 2026-12-06); a DECIMAL would keep only its own scale there.
SELECT c.country,
       ROUND(AVG(CAST(IFF(o.status IN ('cancelled', 'returned'), 1, 0) AS DOUBLE)), 4) AS lost_share
FROM orders o
JOIN customers c ON c.customer_id = o.customer_id
GROUP BY c.country
ORDER BY c.country;
