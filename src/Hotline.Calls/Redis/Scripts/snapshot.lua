-- ARGV: root
-- Returns { { skill, waiting, oldestEnqueuedMs or '', readyAgents }..., }, { status, count, ... }, reserved, connected, missed
local skills = redis.call('SMEMBERS', kSkills)
table.sort(skills)
local perSkill = {}
for _, s in ipairs(skills) do
  local oldest = redis.call('ZRANGE', kWaitingSince(s), 0, 0, 'WITHSCORES')
  perSkill[#perSkill + 1] = { s, redis.call('ZCARD', kWaiting(s)), oldest[2] or '', redis.call('ZCARD', kReady(s)) }
end
local counts = {}
for _, a in ipairs(redis.call('SMEMBERS', kAgents)) do
  local st = redis.call('HGET', kAgent(a), 'status')
  counts[st] = (counts[st] or 0) + 1
end
local byStatus = {}
for st, n in pairs(counts) do
  byStatus[#byStatus + 1] = st
  byStatus[#byStatus + 1] = n
end
return { perSkill, byStatus, redis.call('ZCARD', kReservations), redis.call('SCARD', kConnected), redis.call('ZCARD', kMissed) }
