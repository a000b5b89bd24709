-- ARGV: root, agentId, nowMs, then skill, level, readyOffset triples (offset '0' unless the skill is level-first)
-- Returns 0 while the agent is Reserved or OnCall; else 1: Ready with these skills, idle since now
-- (an agent already Ready keeps its idle time).
local id, now = ARGV[2], ARGV[3]
local f = redis.call('HMGET', kAgent(id), 'status', 'idle', 'ready')
local status = f[1]
if status == 'Reserved' or status == 'OnCall' then
  return 0
end
local idle = now
if status == 'Ready' then
  idle = f[2]
  leaveReadySets(f[3])
end
redis.call('DEL', kAgentSkills(id), kAgentRank(id))
for i = 4, #ARGV, 3 do
  redis.call('HSET', kAgentSkills(id), ARGV[i], ARGV[i + 1])
  if ARGV[i + 2] ~= '0' then -- a level-first skill (never '0' for it): listed twice, the last level wins
    redis.call('HSET', kAgentRank(id), ARGV[i], ARGV[i + 2])
  end
  redis.call('SADD', kSkills, ARGV[i])
end
redis.call('SADD', kAgents, id)
becomeReady(id, idle)
return 1
