--[[
  Trim the entries of an order log that the export group has acknowledged, that is, entries already
  committed to PostgreSQL, and that were taken before a cut-off (the retention). Nothing pending, and
  nothing not yet delivered, is ever trimmed: the bound is the lowest of the cut-off, the oldest pending
  entry and the group's last delivered entry (kept itself; it goes on a later trim).

  KEYS[1] orders   stream, the SKU's order log

  ARGV[1] group    the export consumer group
  ARGV[2] cutoff   entry id: entries below it are old enough to go

  Returns the number of entries trimmed (0 when the log or the group does not exist)

  Only the export group is looked at: another consumer group on the same stream is not ours to wait for.
]]
if redis.call('EXISTS', KEYS[1]) == 0 then
  return 0
end

local function parse(id)
  local ms, seq = string.match(id, '^(%d+)-(%d+)$')
  return tonumber(ms), tonumber(seq)
end

local function lower(a, b)
  local ams, aseq = parse(a)
  local bms, bseq = parse(b)
  if ams < bms or (ams == bms and aseq < bseq) then
    return a
  end
  return b
end

local lastDelivered, pending
for _, group in ipairs(redis.call('XINFO', 'GROUPS', KEYS[1])) do
  local fields = {}
  for i = 1, #group, 2 do
    fields[group[i]] = group[i + 1]
  end
  if fields['name'] == ARGV[1] then
    lastDelivered = fields['last-delivered-id']
    pending = fields['pending']
  end
end
if not lastDelivered then
  return 0
end

local bound = lower(ARGV[2], lastDelivered)
if pending > 0 then
  local summary = redis.call('XPENDING', KEYS[1], ARGV[1])
  bound = lower(bound, summary[2])
end
return redis.call('XTRIM', KEYS[1], 'MINID', bound)
