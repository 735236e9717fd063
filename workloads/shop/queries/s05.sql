-- Page views by page and device (JSON properties)
SELECT JSON_EXTRACT_PATH_TEXT(properties, 'page') AS page,
       JSON_EXTRACT_PATH_TEXT(properties, 'device') AS device,
       COUNT(*) AS views
FROM events
GROUP BY 1, 2
ORDER BY 1, 2;
