-- Top five customers by revenue
SELECT c.name, SUM(o.amount) AS revenue
FROM orders o
JOIN customers c ON c.customer_id = o.customer_id
WHERE o.status <> 'cancelled'
GROUP BY c.name
ORDER BY revenue DESC, c.name
LIMIT 5;
