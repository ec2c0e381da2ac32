-- Appends a batch of one school's events to its stream, all in one atomic
-- step, so a batch is published whole or not at all and stays in order.
-- KEYS[1]: the school's stream. ARGV[1]: approximate MAXLEN.
-- Then triples: event id, event type, encoded school.events.v1.Event.
for i = 2, #ARGV, 3 do
  redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*',
    'id', ARGV[i], 'type', ARGV[i + 1], 'e', ARGV[i + 2])
end
return (#ARGV - 1) / 3
