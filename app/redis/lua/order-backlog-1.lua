--[[
  What the export group has not acknowledged yet in one order log: the orders not yet (known to be) in
  PostgreSQL.

  KEYS[1] orders   stream, the SKU's order log

  ARGV[1] group    the export consumer group

  Returns {pending, undelivered, oldest}
    pending      entries delivered to a worker and not acknowledged
    undelivered  entries no worker has been given yet (-1: more than can be counted cheaply, see below)
    oldest       id of the oldest unacknowledged entry, '' when there is none

  Redis keeps the number of undelivered entries as the group's `lag`; when it cannot (entries deleted
  past the group's position) they are counted, up to 100000.
]]
if redis.call('EXISTS', KEYS[1]) == 0 then
  return {0, 0, ''}
end

local COUNT_AT_MOST = 100000
local group
for _, candidate in ipairs(redis.call('XINFO', 'GROUPS', KEYS[1])) do
  local fields = {}
  for i = 1, #candidate, 2 do
    fields[candidate[i]] = candidate[i + 1]
  end
  if fields['name'] == ARGV[1] then
    group = fields
  end
end

local function countFrom(start)
  local entries = redis.call('XRANGE', KEYS[1], start, '+', 'COUNT', COUNT_AT_MOST + 1)
  if #entries > COUNT_AT_MOST then
    return -1
  end
  return #entries
end

local function firstFrom(start)
  local entries = redis.call('XRANGE', KEYS[1], start, '+', 'COUNT', 1)
  if entries[1] then
    return entries[1][1]
  end
  return ''
end

if not group then
  -- no worker has joined yet: everything is waiting
  return {0, countFrom('-'), firstFrom('-')}
end

local oldest = ''
if group['pending'] > 0 then
  oldest = redis.call('XPENDING', KEYS[1], ARGV[1])[2]
end
local after = '(' .. group['last-delivered-id']
local undelivered = group['lag']
if type(undelivered) ~= 'number' then
  undelivered = countFrom(after)
end
if oldest == '' and undelivered ~= 0 then
  oldest = firstFrom(after)
end
return {group['pending'], undelivered, oldest}
