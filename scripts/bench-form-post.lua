-- wrk -s scripts/bench-form-post.lua: every request a POST of one form, for the OAuth
-- section of scripts/bench.py. The body and the Authorization header come in through the
-- environment (BENCH_FORM_BODY, BENCH_FORM_AUTH), so no token or secret is on a command line.
wrk.method = "POST"
wrk.body = os.getenv("BENCH_FORM_BODY") or ""
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
local authorization = os.getenv("BENCH_FORM_AUTH")
if authorization and authorization ~= "" then
  wrk.headers["Authorization"] = authorization
end
