-- Days from sign-up to first order
SELECT c.name, DATEDIFF('day', c.signed_up, MIN(o.ordered_at)::DATE) AS days_to_first_order
FROM customers c
JOIN orders o ON o.customer_id = c.customer_id
GROUP BY c.name, c.signed_up
ORDER BY c.name;
