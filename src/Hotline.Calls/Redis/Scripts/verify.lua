-- ARGV: root
-- Diagnostics (O(all keys of the queue), uses KEYS): returns the violated invariants, an empty list when healthy.
local problems = {}
local function bad(msg) problems[#problems + 1] = msg end
local place = {}
local function put(id, where)
  if place[id] then bad('call ' .. id .. ' both ' .. place[id] .. ' and ' .. where) end
  place[id] = where
end
local heads = 0
for _, s in ipairs(redis.call('SMEMBERS', kSkills)) do
  local ids = redis.call('ZRANGE', kWaiting(s), 0, -1, 'WITHSCORES')
  for i = 1, #ids, 2 do
    local id, score = ids[i], tonumber(ids[i + 1])
    put(id, 'waiting:' .. s)
    local f = redis.call('HMGET', kCall(id), 'stage', 'skill', 'enq')
    if f[1] ~= 'Waiting' or f[2] ~= s then bad('call ' .. id .. ' in waiting:' .. s .. ' has stage ' .. tostring(f[1])) end
    -- snapshot reads the enqueue time from the score (score = -priority * 2^43 + enqueuedMs)
    if score - math.floor(score / 8796093022208) * 8796093022208 ~= tonumber(f[3]) then bad('call ' .. id .. ' in waiting:' .. s .. ' scored off its enqueue time') end
  end
  if #ids > 0 then
    heads = heads + 1
    local h = redis.call('ZRANGE', kWaiting(s), 0, 0, 'WITHSCORES')
    local hs = redis.call('ZSCORE', kHeads, headMember(s, h[1]))
    if not hs or tonumber(hs) ~= tonumber(h[2]) then bad('head ' .. h[1] .. ' of waiting:' .. s .. ' not on heads at its score') end
  end
  for _, m in ipairs(redis.call('ZRANGE', kReady(s), 0, -1)) do
    local sep = string.find(m, '\0', 1, true)
    if not sep then
      bad('ready:' .. s .. ' member ' .. m .. ' does not name its skills')
    else
      local a = string.sub(m, 1, sep - 1)
      local f = redis.call('HMGET', kAgent(a), 'status', 'ready')
      if f[1] ~= 'Ready' then bad('agent ' .. a .. ' in ready:' .. s .. ' but not Ready') end
      if f[2] ~= m then bad('agent ' .. a .. ' in ready:' .. s .. ' under another member than its ready field') end
      if redis.call('HEXISTS', kAgentSkills(a), s) == 0 then bad('agent ' .. a .. ' in ready:' .. s .. ' without the skill') end
    end
  end
end
if redis.call('ZCARD', kHeads) ~= heads then bad('heads holds ' .. redis.call('ZCARD', kHeads) .. ' entries for ' .. heads .. ' waiting queues') end
for _, id in ipairs(redis.call('ZRANGE', kReservations, 0, -1)) do
  put(id, 'reserved')
  local f = redis.call('HMGET', kCall(id), 'stage', 'agent')
  if f[1] ~= 'Reserved' then bad('call ' .. id .. ' in reservations has stage ' .. tostring(f[1])) end
  local a = redis.call('HMGET', kAgent(f[2] or ''), 'status', 'call')
  if a[1] ~= 'Reserved' or a[2] ~= id then bad('reserved call ' .. id .. ' not held by its agent') end
end
for _, id in ipairs(redis.call('SMEMBERS', kConnected)) do
  put(id, 'connected')
  if redis.call('HGET', kCall(id), 'stage') ~= 'Connected' then bad('call ' .. id .. ' in connected is not Connected') end
end
for _, key in ipairs(redis.call('KEYS', kCall('*'))) do
  local id = redis.call('HGET', key, 'id')
  if not place[id] then bad('call ' .. tostring(id) .. ' is nowhere') end
  if redis.call('EXISTS', kGone(id)) == 1 then bad('call ' .. id .. ' is live and tombstoned') end
end
local holders = {}
for _, a in ipairs(redis.call('SMEMBERS', kAgents)) do
  local f = redis.call('HMGET', kAgent(a), 'status', 'call', 'idle', 'ready')
  if f[1] == 'Reserved' or f[1] == 'OnCall' then
    if holders[f[2]] then bad('call ' .. f[2] .. ' held by ' .. holders[f[2]] .. ' and ' .. a) end
    holders[f[2]] = a
    local c = redis.call('HMGET', kCall(f[2]), 'stage', 'agent')
    local expected = f[1] == 'Reserved' and 'Reserved' or 'Connected'
    if c[1] ~= expected or c[2] ~= a then bad('agent ' .. a .. ' (' .. f[1] .. ') holds ' .. f[2] .. ' which is not its') end
  elseif f[2] ~= '' then
    bad('agent ' .. a .. ' (' .. f[1] .. ') still names call ' .. f[2])
  end
  local rank = rankOffsets(a)
  for s in pairs(rank) do
    if redis.call('HEXISTS', kAgentSkills(a), s) == 0 then bad('agent ' .. a .. ' ranked for ' .. s .. ' without the skill') end
  end
  local skills = redis.call('HKEYS', kAgentSkills(a))
  local member = f[4] or ''
  if f[1] == 'Ready' then
    -- its member names it and exactly its skills
    local named = {}
    local sep = string.find(member, '\0', 1, true)
    if not sep or string.sub(member, 1, sep - 1) ~= a then
      bad('ready agent ' .. a .. ' has no ready member naming it')
    else
      for s in string.gmatch(string.sub(member, sep + 1), '[^%z]+') do named[#named + 1] = s end
    end
    local have = {}
    for _, s in ipairs(skills) do have[s] = true end
    for _, s in ipairs(named) do
      if not have[s] then bad('ready member of ' .. a .. ' names ' .. s .. ' it does not have') end
      have[s] = nil
    end
    if next(have) ~= nil and sep then bad('ready member of ' .. a .. ' misses some of its skills') end
  end
  for _, s in ipairs(skills) do
    local score = member ~= '' and redis.call('ZSCORE', kReady(s), member)
    if f[1] == 'Ready' then
      if not score or tonumber(score) ~= (rank[s] or 0) + tonumber(f[3]) then bad('ready agent ' .. a .. ' not in line for ' .. s) end
    elseif score then
      bad('agent ' .. a .. ' (' .. f[1] .. ') in ready:' .. s)
    end
  end
end
for _, id in ipairs(redis.call('ZRANGE', kMissed, 0, -1)) do
  if redis.call('EXISTS', kMissedCall(id)) == 0 then bad('missed call ' .. id .. ' listed without its entry') end
  if place[id] then bad('missed call ' .. id .. ' is still live (' .. place[id] .. ')') end
end
return problems
