-- KEYS[1]: the limited key. ARGV[1]: emission interval (µs), ARGV[2]: window (µs).
return gcra(KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]), now_us())
