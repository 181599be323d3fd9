--[[
  Reset a SKU to a given stock and forget its sales, atomically: no purchase can land between the
  new stock and the cleared log, so conservation holds from the first purchase after the reset.
  Creates the SKU (named after itself, price 0) when it does not exist.

  KEYS[1] stock        string, units left
  KEYS[2] product      hash
  KEYS[3] buyers       hash, deleted
  KEYS[4] orders       stream, deleted
  KEYS[5] idempotency  hash, deleted

  ARGV[1] amount       integer >= 0, the new stock
  ARGV[2] name         name to give the SKU if it has none
  ARGV[3] channel      restock channel: the SKU is published there once the new stock is written
  ARGV[4] sku          the message

  Returns 1 if the SKU was created, 0 if it existed

  The PUBLISH is part of the script, after the writes: a subscriber cannot hear of the restock before
  it is committed, and no restock can commit without its message (as it could if the caller published
  afterwards and died, or timed out, in between). Every instance drops its sold-out mark on it.
]]
local created = redis.call('EXISTS', KEYS[2]) == 0 and 1 or 0
redis.call('SET', KEYS[1], ARGV[1])
redis.call('HSET', KEYS[2], 'initial', ARGV[1], 'sold', 0)
if created == 1 then
  redis.call('HSET', KEYS[2], 'name', ARGV[2], 'price', '0', 'perUserLimit', 0)
end
redis.call('DEL', KEYS[3], KEYS[4], KEYS[5])
redis.call('PUBLISH', ARGV[3], ARGV[4])
return created
