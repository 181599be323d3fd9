--[[
  Create or update a product. Its stock becomes the units left to sell now; units already sold stay
  in the order log and are counted in `initial`, so that initial = stock + sold keeps holding.
  An update is a restock within the same sale; a new product starts its first sale.

  KEYS[1] stock    string, units left
  KEYS[2] product  hash: name, price, initial, sold, orders, perUserLimit, sale

  ARGV[1] name
  ARGV[2] price          decimal string
  ARGV[3] stock          integer >= 0
  ARGV[4] perUserLimit   integer >= 0 (0 = no limit)
  ARGV[5] onlyIfMissing  '1' to leave an existing product untouched (start-up seeding of the default SKU)
  ARGV[6] channel        restock channel: the SKU is published there once the new stock is written
  ARGV[7] sku            the message

  Returns 1 if the product was created, 0 if it was updated (or left alone)

  `sale` of a new product: the time in milliseconds, as reset-stock-4.lua explains. The PUBLISH comes
  after the writes, inside the script: see reset-stock-4.lua.
]]
local exists = redis.call('EXISTS', KEYS[2]) == 1
if exists and ARGV[5] == '1' then
  return 0
end
local sold = redis.call('HGET', KEYS[2], 'sold') or '0'
if not string.match(sold, '^%d+$') then
  return redis.error_reply('ERR corrupt sold counter in ' .. KEYS[2])
end
redis.call('SET', KEYS[1], ARGV[3])
redis.call('HSET', KEYS[2], 'name', ARGV[1], 'price', ARGV[2], 'perUserLimit', ARGV[4],
  'initial', tonumber(ARGV[3]) + tonumber(sold), 'sold', sold)
if not exists then
  local time = redis.call('TIME')
  local sale = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
  redis.call('HSET', KEYS[2], 'orders', 0, 'sale', string.format('%d', sale))
end
redis.call('PUBLISH', ARGV[6], ARGV[7])
return exists and 0 or 1
