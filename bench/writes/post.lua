-- wrk script for bench/writes/run.sh: each request creates one deal; the summary line is what run.sh prints.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("TOKEN")
local n = 0
request = function()
  n = n + 1
  return wrk.format(nil, "/api/v1/deals", nil, '{"title":"Load deal ' .. n .. '","value":' .. (1000 + n % 5000) .. '}')
end
done = function(summary, latency, requests)
  io.write(string.format("req/s %.0f  p50 %.1f ms  p99 %.1f ms  max %.1f ms  non-2xx %d  errors %d\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000, summary.errors.status, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
