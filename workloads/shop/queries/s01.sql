-- Revenue by country
SELECT c.country, COUNT(*) AS orders, SUM(o.amount) AS revenue
FROM orders o
JOIN customers c ON c.customer_id = o.customer_id
WHERE o.status = 'shipped'
GROUP BY c.country
ORDER BY revenue DESC, c.country;
