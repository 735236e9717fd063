-- Orders and revenue by month
SELECT DATE_TRUNC('MONTH', ordered_at)::DATE AS month, COUNT(*) AS orders, SUM(amount) AS revenue
FROM orders
GROUP BY 1
ORDER BY 1;
