-- ARGV: root, callId, skill, score, enqueuedMs, priority, caller, dialled, attrsJson
-- Returns 1 when queued, 0 when the call is already known (live or tombstoned).
local id, skill, score, enq = ARGV[2], ARGV[3], ARGV[4], ARGV[5]
if redis.call('EXISTS', kCall(id)) == 1 or redis.call('EXISTS', kGone(id)) == 1 then
  return 0
end
redis.call('HSET', kCall(id), 'id', id, 'caller', ARGV[7], 'dialled', ARGV[8], 'skill', skill, 'prio', ARGV[6],
  'enq', enq, 'score', score, 'attrs', ARGV[9], 'stage', 'Waiting', 'agent', '', 'offered', '', 'expires', '')
waitAdd(skill, id, score)
redis.call('SADD', kSkills, skill)
return 1
