import type { Decision, Policy, PolicyState } from './types.js';

/**
 * The Redis side of the limiter: one script decides every policy of a request atomically, in one
 * round trip, with the same rules as gcra.ts (a contract test runs both over the same cases).
 *
 * Time comes from the gateway (ARGV[1]), not from Redis `TIME`: the injected clock keeps tests
 * deterministic and lets the memory and Redis stores agree to the millisecond. Counts stay exact
 * across processes regardless (the script is atomic); only refill timing depends on the processes'
 * clocks agreeing, which NTP keeps within a few milliseconds. A key's time never goes back: a request
 * is decided at the latest of ARGV[1] and the times its keys were written at (see gcra.ts).
 *
 * KEYS: one per policy. ARGV: now, then three values per policy:
 *   gcra:   "g", intervalMs, burst   ("p" for a peek: decided the same way, nothing spent)
 *   window: "w", limit, windowEnd (epoch ms)
 * Reply: allowed (0|1), then per policy: allowed, remaining, resetMs, retryAfterMs (integers).
 * Each key holds "<value> <at>": the TAT or window count, and the decision time that wrote it. Both are
 * written with `%.17g`: 17 significant digits read back as the same double, whatever it is, so the script
 * works on exactly the numbers gcra.ts does (see the rounding rule there).
 */
export const GCRA_SCRIPT = `
-- Library functions as locals, and flat arrays rather than closures and tables per policy: Redis
-- runs every decision of every gateway on one thread, so each microsecond here is shared capacity.
local tonumber, max, min, floor, ceil, format, find, sub = tonumber, math.max, math.min, math.floor, math.ceil, string.format, string.find, string.sub
local now = tonumber(ARGV[1])
local n = #KEYS
-- Every key is read first: the request is decided at the latest time any of them was written at.
local stored = {}
for i = 1, n do
  local raw = redis.call('GET', KEYS[i])
  if raw then
    local space = find(raw, ' ', 1, true)
    stored[i] = tonumber(sub(raw, 1, space - 1))
    local at = tonumber(sub(raw, space + 1))
    if at > now then now = at end
  end
end
local slack = 0.001
-- Redis expires keys on its own clock; the slack keeps a key alive when the gateways' clocks run
-- behind it. A key that outlives its need is harmless: an old TAT or a past window counts as empty.
local ttlSlack = 1000
-- reply[1] is the verdict; policy i fills reply[4i-2 .. 4i+1] with the state as it stands (refused),
-- and admitted[] holds the four values to report instead when every policy admits.
local reply = { 1 }
local admitted, value, ttl = {}, {}, {}
local all = true
for i = 1, n do
  local kind = ARGV[3 * i - 1]
  local a = tonumber(ARGV[3 * i])
  local b = tonumber(ARGV[3 * i + 1])
  local r = 4 * i - 2
  if kind == 'g' or kind == 'p' then
    local interval, burst = a, b
    local tat = now
    if stored[i] then tat = max(stored[i], now) end
    local newTat = tat + interval
    local allowAt = newTat - burst * interval
    local ok = allowAt <= now + slack
    local left, wait = 0, 0
    if ok then
      left = min(burst, max(0, floor((now - tat + burst * interval) / interval + slack / interval)))
    else
      wait = ceil(allowAt - now)
      all = false
    end
    reply[r], reply[r + 1], reply[r + 2], reply[r + 3] = ok and 1 or 0, left, ceil(tat - now), wait
    if kind == 'p' then
      -- A peek spends nothing: it reports the bucket as it is and writes back the TAT it read.
      admitted[r], admitted[r + 1], admitted[r + 2], admitted[r + 3] = reply[r], left, reply[r + 2], wait
      value[i], ttl[i] = format('%.17g %.17g', tat, now), max(1, ceil(tat - now))
    else
      local spent = min(burst, max(0, floor((now - newTat + burst * interval) / interval + slack / interval)))
      admitted[r], admitted[r + 1], admitted[r + 2], admitted[r + 3] = 1, spent, ceil(newTat - now), 0
      value[i], ttl[i] = format('%.17g %.17g', newTat, now), max(1, ceil(newTat - now))
    end
  else
    local limit, windowEnd = a, b
    local count = stored[i] or 0
    local ok = count + 1 <= limit
    local reset = max(1, ceil(windowEnd - now))
    local wait = 0
    if not ok then
      wait = reset
      all = false
    end
    reply[r], reply[r + 1], reply[r + 2], reply[r + 3] = ok and 1 or 0, min(limit, max(0, limit - count)), reset, wait
    admitted[r], admitted[r + 1], admitted[r + 2], admitted[r + 3] = 1, min(limit, max(0, limit - count - 1)), reset, 0
    value[i], ttl[i] = format('%d %.17g', count + 1, now), reset
  end
end
if not all then
  reply[1] = 0
  return reply
end
for i = 1, n do
  redis.call('SET', KEYS[i], value[i], 'PX', ttl[i] + ttlSlack)
  local r = 4 * i - 2
  reply[r], reply[r + 1], reply[r + 2], reply[r + 3] = admitted[r], admitted[r + 1], admitted[r + 2], admitted[r + 3]
end
return reply
`;

/** KEYS and ARGV for one request. */
export function scriptArguments(policies: readonly Policy[], now: number): { keys: string[]; args: (string | number)[] } {
  const keys: string[] = [];
  const args: (string | number)[] = [now];
  for (const policy of policies) {
    keys.push(policy.key);
    if (policy.kind === 'gcra') args.push(policy.peek ? 'p' : 'g', policy.intervalMs, policy.burst);
    else args.push('w', policy.limit, policy.windowEnd);
  }
  return { keys, args };
}

/** Reads the script's reply; a reply of the wrong shape is an error, never a guess. */
export function decodeScriptReply(policies: readonly Policy[], reply: unknown): Decision {
  if (!Array.isArray(reply) || reply.length !== 1 + 4 * policies.length || !reply.every((v) => typeof v === 'number')) {
    throw new Error('unexpected reply from the rate-limit script');
  }
  const numbers = reply as number[];
  const states: PolicyState[] = policies.map((policy, i) => ({
    name: policy.name,
    allowed: numbers[1 + 4 * i] === 1,
    remaining: numbers[2 + 4 * i]!,
    resetMs: numbers[3 + 4 * i]!,
    retryAfterMs: numbers[4 + 4 * i]!,
  }));
  return { allowed: numbers[0] === 1, states };
}
