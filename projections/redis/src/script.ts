import { createHash } from 'node:crypto';

/**
 * The commit of one partition batch, as one script: Redis runs it atomically, so readers see the batch and the
 * checkpoint together or not at all.
 *
 * KEYS[1] = checkpoint key, KEYS[1 + i] = document key of write i (i = 1..n).
 * ARGV[1] = checkpoint, ARGV[2i] = position of write i, ARGV[2i + 1] = stored value of write i
 * (`{"p":<position>,"d":...}`, position first so the script reads it with an anchored match instead of
 * decoding the whole document).
 *
 * Redis does not roll a script back when a command in it fails, so the script reads and validates everything
 * first (a GET on a key of another type, an unreadable stored value or a bad argument fails there) and only
 * then writes, with SETs that cannot fail on their arguments: a batch is applied whole or not at all.
 * A write lands only if its position is greater than the stored one (earlier writes of the same batch
 * included); the checkpoint only moves forward. Returns the number of documents written.
 */
export const COMMIT_SCRIPT = `
local n = #KEYS - 1
local checkpoint = tonumber(ARGV[1])
if checkpoint == nil or #ARGV ~= 2 * n + 1 then
  return redis.error_reply('ERR tidemark commit: bad arguments')
end
local known = {}
local todo = {}
for i = 1, n do
  local key = KEYS[i + 1]
  local position = tonumber(ARGV[2 * i])
  if position == nil then
    return redis.error_reply('ERR tidemark commit: bad position for ' .. key)
  end
  local stored = known[key]
  if stored == nil then
    local value = redis.call('GET', key)
    if value then
      stored = tonumber(string.match(value, '^{"p":(%d+)'))
      if stored == nil then
        return redis.error_reply('ERR tidemark commit: unreadable stored value at ' .. key)
      end
    else
      stored = -1
    end
  end
  if position > stored then
    todo[#todo + 1] = i
    known[key] = position
  else
    known[key] = stored
  end
end
local storedCheckpoint = -1
local current = redis.call('GET', KEYS[1])
if current then
  storedCheckpoint = tonumber(current)
  if storedCheckpoint == nil then
    return redis.error_reply('ERR tidemark commit: unreadable checkpoint at ' .. KEYS[1])
  end
end
for _, i in ipairs(todo) do
  redis.call('SET', KEYS[i + 1], ARGV[2 * i + 1])
end
if checkpoint > storedCheckpoint then
  redis.call('SET', KEYS[1], ARGV[1])
end
return #todo
`;

export const COMMIT_SCRIPT_SHA1 = createHash('sha1').update(COMMIT_SCRIPT).digest('hex');
