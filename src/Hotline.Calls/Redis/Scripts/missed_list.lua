-- ARGV: root, limit
-- The open 漏接回拨 entries, oldest first: rows id caller dialled skill enq at reason agent claimedBy claimedAt attempts result.
local rows = {}
for _, id in ipairs(redis.call('ZRANGE', kMissed, 0, tonumber(ARGV[2]) - 1)) do
  rows[#rows + 1] = redis.call('HMGET', kMissedCall(id), 'id', 'caller', 'dialled', 'skill', 'enq', 'at', 'reason', 'agent',
    'claimedBy', 'claimedAt', 'attempts', 'result')
end
return rows
