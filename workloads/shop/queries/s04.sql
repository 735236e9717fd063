-- Share of orders cancelled or returned, by country
SELECT c.country,
       ROUND(AVG(IFF(o.status IN ('cancelled', 'returned'), 1, 0)), 4) AS lost_share
FROM orders o
JOIN customers c ON c.customer_id = o.customer_id
GROUP BY c.country
ORDER BY c.country;
