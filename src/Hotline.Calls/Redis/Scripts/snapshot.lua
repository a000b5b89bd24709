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
-- The oldest enqueue time of a queue. score = -priority * 2^43 + enqueuedMs (CallQueueRules.WaitingScore), and within one
-- priority band the queue is in arrival order, so the oldest call is the first of some band: one command per band (the
-- distinct priorities waiting), whatever the queue's length. Returned as an integer reply ('' for an empty queue).
local BAND = 8796093022208
local function oldestEnq(w)
  local oldest, from = '', '-inf'
  while true do
    local h = redis.call('ZRANGEBYSCORE', w, from, '+inf', 'WITHSCORES', 'LIMIT', '0', '1')
    if #h == 0 then
      return oldest
    end
    local score = tonumber(h[2])
    local band = math.floor(score / BAND) * BAND
    if oldest == '' or score - band < oldest then
      oldest = score - band
    end
    from = string.format('%.17g', band + BAND) -- an integer below 2^53: printed exactly
  end
end
local skills = redis.call('SMEMBERS', kSkills)
table.sort(skills)
local perSkill = {}
for _, s in ipairs(skills) do
  local w = kWaiting(s)
  perSkill[#perSkill + 1] = { s, redis.call('ZCARD', w), oldestEnq(w), redis.call('ZCARD', kReady(s)), staffed[s] or 0 }
end
local byStatus = {}
for st, n in pairs(counts) do
  byStatus[#byStatus + 1] = st
  byStatus[#byStatus + 1] = n
end
return { perSkill, byStatus, redis.call('ZCARD', kReservations), redis.call('SCARD', kConnected), redis.call('ZCARD', kMissed) }
