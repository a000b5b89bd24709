-- ARGV: root, agentId
-- Returns { status, reason, since, call, { skill, level, ... } }, or nil for an unknown agent.
local id = ARGV[2]
local f = redis.call('HMGET', kAgent(id), 'status', 'reason', 'since', 'call')
if not f[1] then
  return nil
end
return { f[1], f[2], f[3], f[4], redis.call('HGETALL', kAgentSkills(id)) }
