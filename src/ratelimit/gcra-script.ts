import type { Decision, Policy, PolicyState } from './types.js';

/**
 * The Redis side of the limiter: one script decides every policy of a request atomically, in one
 * round trip, with the same rules as gcra.ts (a contract test runs both over the same cases).
 *
 * Time comes from the gateway (ARGV[1]), not from Redis `TIME`: the injected clock keeps tests
 * deterministic and lets the memory and Redis stores agree to the millisecond. Counts stay exact
 * across processes regardless (the script is atomic); only refill timing depends on the processes'
 * clocks agreeing, which NTP keeps within a few milliseconds.
 *
 * KEYS: one per policy. ARGV: now, then three values per policy:
 *   gcra:   "g", intervalMs, burst   ("p" for a peek: decided the same way, nothing spent)
 *   window: "w", limit, windowEnd (epoch ms)
 * Reply: allowed (0|1), then per policy: allowed, remaining, resetMs, retryAfterMs (integers).
 */
export const GCRA_SCRIPT = `
local now = tonumber(ARGV[1])
local slack = 0.001
-- Redis expires keys on its own clock; the slack keeps a key alive when the gateways' clocks run
-- behind it. A key that outlives its need is harmless: an old TAT or a past window counts as empty.
local ttlSlack = 1000
local n = #KEYS
local fits, admitted, unchanged, writes = {}, {}, {}, {}
local all = true
local function clamp(x, lo, hi) return math.min(hi, math.max(lo, x)) end
for i = 1, n do
  local kind = ARGV[3 * i - 1]
  local a = tonumber(ARGV[3 * i])
  local b = tonumber(ARGV[3 * i + 1])
  local stored = redis.call('GET', KEYS[i])
  if kind == 'g' or kind == 'p' then
    local interval, burst = a, b
    local tat = now
    if stored then tat = math.max(tonumber(stored), now) end
    local newTat = tat + interval
    local allowAt = newTat - burst * interval
    local ok = allowAt <= now + slack
    local function available(at)
      return clamp(math.floor((now - at + burst * interval) / interval + slack / interval), 0, burst)
    end
    local wait = 0
    if not ok then wait = math.ceil(allowAt - now) end
    local left = 0
    if ok then left = available(tat) end
    fits[i] = ok
    unchanged[i] = { ok and 1 or 0, left, math.ceil(tat - now), wait }
    if kind == 'p' then
      -- A peek spends nothing: it reports the bucket as it is and writes back the TAT it read.
      admitted[i] = unchanged[i]
      writes[i] = { string.format('%.3f', tat), math.max(1, math.ceil(tat - now)) }
    else
      admitted[i] = { 1, available(newTat), math.ceil(newTat - now), 0 }
      writes[i] = { string.format('%.3f', newTat), math.max(1, math.ceil(newTat - now)) }
    end
  else
    local limit, windowEnd = a, b
    local count = tonumber(stored) or 0
    local ok = count + 1 <= limit
    local reset = math.max(1, math.ceil(windowEnd - now))
    local wait = 0
    if not ok then wait = reset end
    fits[i] = ok
    unchanged[i] = { ok and 1 or 0, clamp(limit - count, 0, limit), reset, wait }
    admitted[i] = { 1, clamp(limit - count - 1, 0, limit), reset, 0 }
    writes[i] = { tostring(count + 1), reset }
  end
  if not fits[i] then all = false end
end
local reply = { all and 1 or 0 }
for i = 1, n do
  local state = unchanged[i]
  if all then
    state = admitted[i]
    redis.call('SET', KEYS[i], writes[i][1], 'PX', writes[i][2] + ttlSlack)
  end
  for j = 1, 4 do reply[#reply + 1] = state[j] end
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
