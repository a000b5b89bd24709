-- ARGV: root, callId, priority, score, enqueuedMs
-- A waiting call moves to its new place in its skill queue; a reserved call only records the new priority and score
-- (requeue puts it back at that place). Returns 1, or 0 when the call is not waiting / reserved (or is another call).
local id, prio, score, enq = ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local c = kCall(id)
local f = redis.call('HMGET', c, 'stage', 'skill', 'enq')
if not f[1] or f[3] ~= enq then
  return 0
end
if f[1] == 'Waiting' then
  waitRemove(f[2], id)
  waitAdd(f[2], id, score)
elseif f[1] ~= 'Reserved' then
  return 0
end
redis.call('HSET', c, 'prio', prio, 'score', score)
return 1
