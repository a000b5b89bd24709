-- ARGV: root
-- Returns { { skill, waiting, oldestEnqueuedMs or '', readyAgents, staffedAgents }..., }, { status, count, ... }, reserved, connected, missed
-- staffed: agents with the skill that are Ready, Reserved, OnCall or WrapUp
local counts = {}
local staffed = {}
for _, a in ipairs(redis.call('SMEMBERS', kAgents)) do
  local st = redis.call('HGET', kAgent(a), 'status')
  counts[st] = (counts[st] or 0) + 1
  if st == 'Ready' or st == 'Reserved' or st == 'OnCall' or st == 'WrapUp' then
    for _, s in ipairs(redis.call('HKEYS', kAgentSkills(a))) do
      staffed[s] = (staffed[s] or 0) + 1
    end
  end
end
local skills = redis.call('SMEMBERS', kSkills)
table.sort(skills)
local perSkill = {}
for _, s in ipairs(skills) do
  local oldest = redis.call('ZRANGE', kWaitingSince(s), 0, 0, 'WITHSCORES')
  perSkill[#perSkill + 1] = { s, redis.call('ZCARD', kWaiting(s)), oldest[2] or '', redis.call('ZCARD', kReady(s)), staffed[s] or 0 }
end
local byStatus = {}
for st, n in pairs(counts) do
  byStatus[#byStatus + 1] = st
  byStatus[#byStatus + 1] = n
end
return { perSkill, byStatus, redis.call('ZCARD', kReservations), redis.call('SCARD', kConnected), redis.call('ZCARD', kMissed) }
