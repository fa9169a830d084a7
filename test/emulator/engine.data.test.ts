/**
 * What an execution does to data: a value once read never changes under the reader ($Global, handler inputs),
 * `$Context.Current.RetryCount` is right wherever `$Context.Current` is read, numbers keep their exact text
 * through states that do not compute on them, and nesting never overflows the stack (a too-deep Input is a
 * clean 400). The first case of each group is the flow that showed the fault, registered through CreateFlow.
 */
import { describe, expect, it } from 'vitest';
import { isLosslessNumber } from 'lossless-json';
import { createEmulator, type EmulatorOptions, type TaskHandlers } from '../../src/emulator/index.js';
import { createAndRun, signedCall } from './call.js';
import { runFlow } from './engine-helpers.js';

const emulator = (options: EmulatorOptions = {}) => createEmulator({ timeScale: 0.001, ...options });
const FLOW = (states: string, startAt = 'S1') => `Type: StateMachine\nSpecVersion: v1\nStartAt: ${startAt}\nStates:\n${states}`;
/** A flow that starts at its first state, whether written in block or flow style. */
const flowOf = (states: string) => FLOW(states, /Name:\s*([^\s,}]+)/.exec(states)![1]);

describe('values read are never changed by a later write', () => {
  it('$Global read into an output keeps the value it had (the CreateFlow case)', async () => {
    const definition = FLOW(
      '  - {Type: Pass, Name: S1, GlobalConstructor: {v: 1}, Next: S2}\n' +
        '  - {Type: Pass, Name: S2, OutputConstructor: {snap.$: $Global}, Next: S3}\n' +
        '  - {Type: Pass, Name: S3, GlobalConstructor: {v: 2}, OutputConstructor: {prev.$: $Input}, End: true}\n',
    );
    const answer = await createAndRun(emulator(), 'global_snapshot', definition, '{}');
    expect(answer.json).toMatchObject({ Status: 'Succeeded', Output: '{"prev":{"snap":{"v":1}}}' });
  });

  it('a handler that changes the $Global value it was given changes neither $Global nor anything read before', async () => {
    const handlers: TaskHandlers = {
      scribble: (input) => {
        const given = input as { g: { v: number; list: number[] } };
        given.g.v = 99;
        given.g.list.push(99);
        return {};
      },
    };
    const result = await runFlow(
      flowOf(
        '  - {Type: Pass, Name: Set, GlobalConstructor: {v: 1, list: [1]}, Next: Snap}\n' +
          '  - {Type: Pass, Name: Snap, OutputConstructor: {before.$: $Global}, Next: Scribble}\n' +
          '  - {Type: Task, Name: Scribble, Action: "Local:scribble", Parameters: {g.$: $Global}, OutputConstructor: {before.$: $Input.before}, Next: Read}\n' +
          '  - {Type: Pass, Name: Read, OutputConstructor: {before.$: $Input.before, after.$: $Global}, End: true}\n',
      ),
      {},
      { handlers },
    );
    expect(result.output).toEqual({ before: { v: 1, list: [1] }, after: { v: 1, list: [1] } });
  });

  it("a handler that changes its input changes neither a sibling branch's input nor the execution Input", async () => {
    const handlers: TaskHandlers = {
      scribble: (input) => {
        (input as { order: { qty: number } }).order.qty = 0;
        return { done: true };
      },
    };
    const result = await runFlow(
      flowOf(
        '  - Type: Parallel\n    Name: Both\n    Next: After\n    Branches:\n' +
          '      - StartAt: Change\n        States:\n          - {Type: Task, Name: Change, Action: "Local:scribble", End: true}\n' +
          '      - StartAt: Later\n        States:\n          - {Type: Wait, Name: Later, Seconds: 1, End: true}\n' +
          '  - {Type: Pass, Name: After, OutputConstructor: {sibling.$: $Input.Branch1, execution.$: $Context.Execution.Input}, End: true}\n',
      ),
      { order: { qty: 3 } },
      { handlers },
    );
    expect(result.output).toEqual({ sibling: { order: { qty: 3 } }, execution: { order: { qty: 3 } } });
  });

  it('a Parallel branch that reads $Global keeps its snapshot while another branch writes it', async () => {
    const result = await runFlow(
      flowOf(
        '  - {Type: Pass, Name: Init, GlobalConstructor: {n: {v: 1}}, Next: Both}\n' +
          '  - Type: Parallel\n    Name: Both\n    End: true\n    Branches:\n' +
          '      - StartAt: Read\n        States:\n' +
          '          - {Type: Pass, Name: Read, OutputConstructor: {g.$: $Global}, Next: Hold}\n' +
          '          - {Type: Wait, Name: Hold, Seconds: 2, End: true}\n' +
          '      - StartAt: Write\n        States:\n' +
          '          - {Type: Wait, Name: Write, Seconds: 1, GlobalConstructor: {n: {v: 2}}, End: true}\n',
      ),
    );
    expect(result.output).toEqual({ Branch0: { g: { n: { v: 1 } } }, Branch1: {} });
  });
});

describe('$Context.Current.RetryCount', () => {
  const flaky = (failures: number): TaskHandlers => {
    let calls = 0;
    return {
      flaky: (_input, context) => {
        if (calls++ < failures) throw Object.assign(new Error('not yet'), { code: 'Flaky' });
        return { handlerSaw: context.retryCount };
      },
    };
  };
  const retry = '    Retry:\n      - Errors: [Flaky]\n        MaxAttempts: 3\n        IntervalSeconds: 1\n';

  it('reads the retries in an OutputConstructor after two retries (the CreateFlow case)', async () => {
    const definition = FLOW(
      `  - Type: Task\n    Name: S1\n    Action: Local:flaky\n${retry}` +
        '    OutputConstructor:\n      retries.$: $Context.Current.RetryCount\n      handlerSaw.$: $Output.handlerSaw\n    End: true\n',
    );
    const answer = await createAndRun(emulator({ handlers: flaky(2) }), 'retry_count', definition, '{}');
    expect(JSON.parse(String(answer.json.Output))).toEqual({ retries: 2, handlerSaw: 2 });
  });

  it('reads the retries in a GlobalConstructor, and in a Parallel state’s OutputConstructor', async () => {
    const task = await runFlow(
      flowOf(
        `  - Type: Task\n    Name: T\n    Action: Local:flaky\n${retry}    GlobalConstructor:\n      retries.$: $Context.Current.RetryCount\n    Next: Read\n` +
          '  - {Type: Pass, Name: Read, OutputConstructor: {retries.$: $Global.retries, now.$: $Context.Current.RetryCount}, End: true}\n',
      ),
      {},
      { handlers: flaky(1) },
    );
    expect(task.output).toEqual({ retries: 1, now: 0 });

    const parallel = await runFlow(
      flowOf(
        '  - Type: Parallel\n    Name: P\n    End: true\n    Branches:\n' +
          '      - StartAt: T\n        States:\n          - {Type: Task, Name: T, Action: "Local:flaky", End: true}\n' +
          `${retry}    OutputConstructor:\n      retries.$: $Context.Current.RetryCount\n`,
      ),
      {},
      { handlers: flaky(2) },
    );
    expect(parallel.output).toEqual({ retries: 2 });
  });
});

describe('numbers keep their exact text', () => {
  it('through a bare Pass flow (the CreateFlow case)', async () => {
    const input = '{"big":12345678901234567890,"x":1e400}';
    const answer = await createAndRun(emulator(), 'bare_pass', FLOW('  - {Type: Pass, Name: S1, End: true}\n'), input);
    expect(answer.json).toMatchObject({ Status: 'Succeeded', Output: input });
  });

  it('through constructors, $Global, Map, Parallel, Choice and a handler that passes them on', async () => {
    const seen: unknown[] = [];
    const handlers: TaskHandlers = {
      echo: (input) => {
        seen.push(input);
        return input;
      },
    };
    const definition = FLOW(
      '  - {Type: Pass, Name: S1, GlobalConstructor: {g.$: $Input.big}, Next: Pick}\n' +
        '  - Type: Choice\n    Name: Pick\n    Branches:\n      - Condition: $Input.big > 12345678901234567889 && $Input.big == 12345678901234567890.0\n        Next: Fan\n    Default: Wrong\n' +
        '  - {Type: Fail, Name: Wrong, Code: Rounded}\n' +
        '  - Type: Map\n    Name: Fan\n    ItemsPath: $Input.items\n    Next: Both\n    Processor:\n      StartAt: Echo\n      States:\n' +
        '        - {Type: Task, Name: Echo, Action: "Local:echo", End: true}\n' +
        '    OutputConstructor:\n      items.$: $Output.Items\n      big.$: $Input.big\n      fine.$: $Input.fine\n' +
        '  - Type: Parallel\n    Name: Both\n    End: true\n    Branches:\n' +
        '      - StartAt: Keep\n        States:\n          - {Type: Pass, Name: Keep, End: true}\n' +
        '    OutputConstructor:\n      items.$: $Output.Branch0.items\n      big.$: $Output.Branch0.big\n      fine.$: $Output.Branch0.fine\n      g.$: $Global.g\n      text.$: format("{}", $Input.big)\n',
    );
    const input = '{"big":12345678901234567890,"fine":1.50,"items":[{"id":98765432109876543210,"f":0.1000000000000000000001,"n":7}]}';
    const answer = await createAndRun(emulator({ handlers }), 'exact_numbers', definition, input);
    expect(answer.json.Status).toBe('Succeeded');
    expect(answer.json.Output).toBe(
      '{"items":[{"id":98765432109876543210,"f":0.1000000000000000000001,"n":7}],"big":12345678901234567890,"fine":1.50,"g":12345678901234567890,"text":"12345678901234567890"}',
    );
    // A handler gets plain numbers where a double holds them exactly, and a LosslessNumber where it does not.
    const item = seen[0] as Record<string, unknown>;
    expect(item.n).toBe(7);
    expect(isLosslessNumber(item.id) && String(item.id)).toBe('98765432109876543210');
  });

  it('arithmetic: integers exactly at any size, other numbers as doubles, a number beyond a double refused', async () => {
    const result = await runFlow(
      flowOf(
        '  - Type: Pass\n    Name: Sum\n    End: true\n    OutputConstructor:\n' +
          '      plus.$: $Input.big + 1\n      times.$: $Input.big * 10\n      minus.$: -$Input.big - 1\n      add.$: intAdd($Input.big, 10)\n' +
          '      mod.$: $Input.big % 7\n      half.$: $Input.small / 2\n      tenth.$: 0.1 + 0.2\n',
      ),
      { big: new (await import('lossless-json')).LosslessNumber('12345678901234567890'), small: 3 },
    );
    const out = result.output as Record<string, unknown>;
    expect(Object.fromEntries(Object.entries(out).map(([k, v]) => [k, String(v)]))).toEqual({
      plus: '12345678901234567891',
      times: '123456789012345678900',
      minus: '-12345678901234567891',
      add: '12345678901234567900',
      mod: String(12345678901234567890n % 7n),
      half: '1.5',
      tenth: '0.30000000000000004',
    });
    const huge = await createAndRun(emulator(), 'huge', FLOW('  - {Type: Pass, Name: S1, OutputConstructor: {y.$: $Input.x * 2}, End: true}\n'), '{"x":1e400}');
    expect(huge.json).toMatchObject({ Status: 'Failed', ErrorCode: 'FnF.RuntimeError', ErrorMessage: expect.stringContaining('1e400') });
  });
});

describe('deep nesting never overflows the stack', () => {
  const nested = (depth: number, leaf = '1') => '{"a":'.repeat(depth) + leaf + '}'.repeat(depth);

  it('an Input nested 5,000 levels deep (30 KB) is a clean 400 InvalidArgument (the CreateFlow case)', async () => {
    const input = '{"d":' + '['.repeat(5000) + ']'.repeat(5000) + '}';
    const answer = await createAndRun(emulator(), 'deep_input', FLOW('  - {Type: Pass, Name: S1, End: true}\n'), input);
    expect(answer.status).toBe(400);
    expect(answer.json).toMatchObject({ Code: 'InvalidArgument', Message: expect.stringContaining('nested') });
  });

  it('an Input at the depth limit goes through every walk: constructors, comparisons, copies, functions, Map, Parallel, handlers', async () => {
    const emu = emulator({ maxInputDepth: 1000, handlers: { echo: (input) => input } });
    const definition = FLOW(
      '  - {Type: Pass, Name: S1, GlobalConstructor: {g.$: $Input.deep}, Next: Task}\n' +
        '  - {Type: Task, Name: Task, Action: "Local:echo", Next: Both}\n' +
        '  - Type: Parallel\n    Name: Both\n    Next: Fan\n    Branches:\n' +
        '      - StartAt: Keep\n        States:\n          - {Type: Pass, Name: Keep, End: true}\n' +
        '    OutputConstructor:\n      deep.$: $Output.Branch0.deep\n      items.$: toArray($Output.Branch0)\n' +
        '  - Type: Map\n    Name: Fan\n    ItemsPath: $Input.items\n    Next: Look\n    Processor:\n      StartAt: One\n      States:\n' +
        '        - {Type: Pass, Name: One, End: true}\n' +
        '    OutputConstructor:\n      deep.$: $Input.deep\n      again.$: $Output.Items[0].deep\n' +
        '  - Type: Pass\n    Name: Look\n    End: true\n    OutputConstructor:\n' +
        '      same.$: $Input.deep == $Global.g && arrayContains(toArray($Input.again), $Global.g) && $Input.deep in arrayUnique(toArray($Global.g, $Input.again))\n' +
        '      hash.$: hash($Input.deep, "SHA-256")\n      size.$: length(jsonToString($Input.deep))\n      back.$: stringToJson(jsonToString($Input.again)) == $Global.g\n',
    );
    // 997 + the Input object = 998; the deepest the flow builds is [{deep}] inside its output: 1000.
    const deep = nested(997);
    const answer = await createAndRun(emu, 'deep_walks', definition, `{"deep":${deep}}`);
    expect(answer.json.ErrorMessage).toBeUndefined();
    expect(JSON.parse(String(answer.json.Output))).toMatchObject({ same: true, back: true, size: deep.length });

    // The largest limit allowed, with the recursive parser run from inside an expression.
    const widest = emulator({ maxInputDepth: 2000 });
    const parsed = await createAndRun(
      widest,
      'deepest_parse',
      FLOW('  - {Type: Pass, Name: S1, OutputConstructor: {v.$: stringToJson(jsonToString($Input.d))}, End: true}\n'),
      `{"d":${nested(1998)}}`,
    );
    expect(parsed.json.Output).toBe(`{"v":${nested(1998)}}`);
    expect(() => emulator({ maxInputDepth: 2001 })).toThrow(/maxInputDepth must be a whole number from 1 to 2000/);
  });

  it('a handler result or a stringToJson text that is too deep fails the execution cleanly; so does a cycle', async () => {
    let cyclic: Record<string, unknown> = {};
    cyclic = { self: cyclic };
    cyclic.self = cyclic;
    const handlers: TaskHandlers = { deep: () => JSON.parse(nested(20_000)), cycle: () => cyclic };
    for (const action of ['deep', 'cycle']) {
      const result = await runFlow(flowOf(`  - {Type: Task, Name: T, Action: "Local:${action}", End: true}\n`), {}, { handlers });
      expect(result).toMatchObject({ status: 'Failed', errorCode: 'FnF.DataLimitExceeded' });
    }
    const parsed = await runFlow(flowOf('  - {Type: Pass, Name: P, OutputConstructor: {v.$: stringToJson($Input.text)}, End: true}\n'), {
      text: nested(20_000),
    });
    expect(parsed).toMatchObject({ status: 'Failed', errorCode: 'FnF.RuntimeError', errorMessage: expect.stringContaining('nested') });
  });

  it('a state that nests its output deeper at each turn of a loop fails cleanly, not with a stack overflow', async () => {
    const result = await runFlow(
      flowOf(
        '  - {Type: Pass, Name: Wrap, OutputConstructor: {w.$: $Input}, Next: Again}\n' +
          '  - Type: Choice\n    Name: Again\n    Branches:\n      - Condition: "true"\n        Next: Wrap\n    Default: Wrap\n',
      ),
      {},
      { maxStateBytes: 1024 * 1024 },
    );
    expect(result).toMatchObject({ status: 'Failed', errorCode: 'FnF.DataLimitExceeded' });
  });

  it('a definition or an expression nested too deep is a 400 InvalidArgument, not a 500', async () => {
    const emu = emulator();
    const deepDefinition = `{"Type":"StateMachine","SpecVersion":"v1","StartAt":"S","States":[{"Type":"Pass","Name":"S","End":true,"OutputConstructor":${nested(50_000)}}]}`;
    const deepYaml = FLOW(`  - {Type: Pass, Name: S1, End: true, OutputConstructor: ${'{a: '.repeat(20_000)}1${'}'.repeat(20_000)}}\n`);
    const deepExpression = FLOW(`  - {Type: Pass, Name: S1, End: true, OutputConstructor: {v.$: "${'('.repeat(20_000)}1${')'.repeat(20_000)}"}}\n`);
    const longChain = FLOW(`  - {Type: Pass, Name: S1, End: true, OutputConstructor: {v.$: "$Input${'.a'.repeat(100_000)}"}}\n`);
    for (const [name, definition] of Object.entries({ deepDefinition, deepYaml, deepExpression, longChain })) {
      const answer = await signedCall(emu, 'CreateFlow', { Name: name, Definition: definition, Description: 'deep', Type: 'FDL', ExecutionMode: 'Express' });
      expect([name, answer.status, answer.json.Code]).toEqual([name, 400, 'InvalidArgument']);
    }
  });

  it('an Environment nested deep is refused at CreateFlow, not a 500 when it is described', async () => {
    const answer = await signedCall(emulator(), 'CreateFlow', {
      Name: 'deep_env',
      Definition: FLOW('  - {Type: Pass, Name: S1, End: true}\n'),
      Description: 'x',
      Type: 'FDL',
      Environment: '['.repeat(100_000) + ']'.repeat(100_000),
    });
    expect([answer.status, answer.json.Code]).toEqual([400, 'InvalidArgument']);
  });
});
