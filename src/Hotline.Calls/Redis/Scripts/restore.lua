-- ARGV: root, aliveMarker, agentCount, missedCount, then per agent 5 fields: agentId, status, reason, sinceMs, skills ("skill\tlevel\treadyOffset" lines),
-- then per 漏接回拨 entry 12 fields: callId caller dialled skill enqMs missedMs reason agent claimedBy claimedAtMs attempts result,
-- then per call 11 fields:
--   callId, skill, score, enqueuedMs, priority, caller, dialled, attrsJson, agentId ('' = waiting), connectedMs, agentSkills ("\n"-joined)
-- Rebuilds live calls after Redis lost its data (restart): a waiting call goes back to its skill queue at its original
-- place; a connected call is restored as Connected and its agent as OnCall. Calls already known (live or tombstoned) and
-- agents already known are left alone, so running it twice is harmless. Then the listed agents not known yet (not on a
-- restored call) come back in their recorded state: Ready (idle since their recorded time, in line for their skills),
-- NotReady with the reason, WrapUp or LoggedOut; and the open 漏接回拨 entries. Sets the alive marker. Returns the calls restored.
local marker = ARGV[2]
local agentCount = tonumber(ARGV[3])
local missedCount = tonumber(ARGV[4])
local firstMissed = 5 + agentCount * 5
local firstCall = firstMissed + missedCount * 12
local restored = 0
for i = firstCall, #ARGV, 11 do
  local id, skill, score, enq, prio = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3], ARGV[i + 4]
  local agent, connected, skills = ARGV[i + 8], ARGV[i + 9], ARGV[i + 10]
  if redis.call('EXISTS', kCall(id)) == 0 and redis.call('EXISTS', kGone(id)) == 0 then
    restored = restored + 1
    redis.call('SADD', kSkills, skill)
    if agent == '' then
      -- a virtual callback entry is marked in its attributes ("callback":"1")
      local cb = string.find(ARGV[i + 7], '"callback":"1"', 1, true) and '1' or ''
      redis.call('HSET', kCall(id), 'id', id, 'caller', ARGV[i + 5], 'dialled', ARGV[i + 6], 'skill', skill, 'prio', prio,
        'enq', enq, 'score', score, 'attrs', ARGV[i + 7], 'stage', 'Waiting', 'agent', '', 'offered', '', 'expires', '', 'cb', cb)
      waitAdd(skill, id, score)
    else
      redis.call('HSET', kCall(id), 'id', id, 'caller', ARGV[i + 5], 'dialled', ARGV[i + 6], 'skill', skill, 'prio', prio,
        'enq', enq, 'score', score, 'attrs', ARGV[i + 7], 'stage', 'Connected', 'agent', agent, 'offered', '', 'expires', '')
      redis.call('SADD', kConnected, id)
      if redis.call('EXISTS', kAgent(agent)) == 0 then
        for s in string.gmatch(skills, '[^\n]+') do
          redis.call('HSET', kAgentSkills(agent), s, 1)
          redis.call('SADD', kSkills, s)
        end
        redis.call('SADD', kAgents, agent)
        redis.call('HSET', kAgent(agent), 'status', 'OnCall', 'reason', '', 'since', connected, 'idle', connected, 'call', id)
      end
    end
  end
end
for i = firstMissed, firstCall - 1, 12 do
  -- the open 漏接回拨 entries, as the records tell them (an entry already listed, or a live call, is left alone)
  local id = ARGV[i]
  if redis.call('EXISTS', kMissedCall(id)) == 0 and redis.call('EXISTS', kCall(id)) == 0 then
    redis.call('HSET', kMissedCall(id), 'id', id, 'caller', ARGV[i + 1], 'dialled', ARGV[i + 2], 'skill', ARGV[i + 3], 'enq', ARGV[i + 4],
      'at', ARGV[i + 5], 'reason', ARGV[i + 6], 'agent', ARGV[i + 7], 'claimedBy', ARGV[i + 8], 'claimedAt', ARGV[i + 9],
      'attempts', ARGV[i + 10], 'result', ARGV[i + 11])
    redis.call('ZADD', kMissed, ARGV[i + 5], id)
  end
end
for i = 5, firstMissed - 1, 5 do
  local agent, status, reason, since, skills = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3], ARGV[i + 4]
  if redis.call('EXISTS', kAgent(agent)) == 0 then
    redis.call('DEL', kAgentRank(agent))
    for s, level, offset in string.gmatch(skills, '([^\t\n]+)\t([^\t\n]+)\t([^\n]+)') do
      redis.call('HSET', kAgentSkills(agent), s, level)
      if offset ~= '0' then
        redis.call('HSET', kAgentRank(agent), s, offset)
      end
      redis.call('SADD', kSkills, s)
    end
    redis.call('SADD', kAgents, agent)
    if status == 'Ready' then
      becomeReady(agent, since)
    else
      redis.call('HSET', kAgent(agent), 'status', status, 'reason', reason, 'since', since, 'idle', since, 'call', '')
    end
  end
end
redis.call('SET', marker, '1')
return restored
